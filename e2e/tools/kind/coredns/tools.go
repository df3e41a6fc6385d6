//go:build tools

// Package tools pins CoreDNS, the cluster DNS image kubeadm v1.34 deploys (registry.k8s.io/coredns/coredns:v1.12.1).
package tools

import (
	_ "github.com/coredns/coredns"
)
