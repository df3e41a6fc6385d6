//go:build tools

// Package tools pins etcd for e2e/build-k8s.sh. etcd lives in its own module because its
// dependency graph (grpc, otel, ...) differs from the one Kubernetes pins.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
