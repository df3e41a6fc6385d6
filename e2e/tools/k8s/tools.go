//go:build tools

// Package tools pins the Kubernetes control-plane commands that e2e/build-k8s.sh builds.
// The build tag keeps this file out of every build; it only makes `go mod tidy` record
// the commands' dependencies in go.mod/go.sum.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
