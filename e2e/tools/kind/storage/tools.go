//go:build tools

// Package tools pins rancher's local-path-provisioner, the dynamic volume provisioner kind installs as its
// default StorageClass "standard" (kind's manifest names it kindest/local-path-provisioner).
package tools

import (
	_ "github.com/rancher/local-path-provisioner"
)
