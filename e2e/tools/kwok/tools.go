//go:build tools

// Package tools pins the kwok controller that e2e/local-cluster.sh runs to manage fake nodes.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
