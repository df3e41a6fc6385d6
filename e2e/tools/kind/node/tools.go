//go:build tools

// Package tools pins the node-side Kubernetes commands for the Kind node image (kubelet, kubeadm,
// kube-proxy). The version must equal e2e/tools/k8s (e2e/kind/build.sh checks that); it is a module
// of its own so adding these commands leaves build-k8s.sh's cache key untouched.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
