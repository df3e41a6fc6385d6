//go:build tools

// Package tools pins the kind CLI that e2e/kind/build.sh builds. Its module also carries kind's
// node base files (images/base/files), which the node image is assembled from.
package tools

import (
	_ "sigs.k8s.io/kind"
)
