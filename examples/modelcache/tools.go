//go:build tools

// Package tools pins the ginkgo CLI to the library version in go.mod, so
// `go build -o bin/ginkgo github.com/onsi/ginkgo/v2/ginkgo` builds a matching CLI.
package tools

import (
	_ "github.com/onsi/ginkgo/v2/ginkgo"
)
