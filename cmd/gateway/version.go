package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/houseview/gateway/pkg/buildinfo"
)

// The build's version and commit, set by the Makefile and the Dockerfile:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD)"
var (
	version = "dev"
	commit  = "unknown"
)

// runVersion prints the version, the commit and the Go version.
func runVersion(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "version: %s\ncommit:  %s\ngo:      %s %s/%s\n",
		version, buildinfo.Commit(commit), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
