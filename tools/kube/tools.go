//go:build tools

// Package kube pins the Kubernetes control-plane commands that kubeflake's local
// cluster runs; build.sh builds them with `go build` from this module.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
