//go:build tools

// Package kubectl pins kubectl at the control plane's release, for the snapshot benchmark's
// comparison only; `tools/build.sh kubectl` builds it next to the control-plane binaries.
package kubectl

import (
	_ "k8s.io/kubernetes/cmd/kubectl"
)
