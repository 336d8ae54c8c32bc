//go:build tools

// Package etcd pins the etcd server that kubeflake's local cluster stores its state in.
// It is its own module so that etcd's dependencies never meet Kubernetes' in one build.
package etcd

import _ "go.etcd.io/etcd/server/v3"
