package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// The build's version and commit, set by the Makefile and the Dockerfile:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD)"
var (
	version = "dev"
	commit  = "unknown"
)

// buildCommit is commit, or else the VCS revision go build stamped into the
// binary.
func buildCommit() string {
	info, _ := debug.ReadBuildInfo()
	return commitOf(commit, info)
}

// commitOf is set unless it is "unknown" or empty, else the vcs.revision
// of info ("-dirty" when the tree had changes), else set.
func commitOf(set string, info *debug.BuildInfo) string {
	if set != "unknown" && set != "" || info == nil {
		return set
	}
	revision, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision == "" {
		return set
	}
	if modified {
		revision += "-dirty"
	}
	return revision
}

// runVersion prints the version, the commit and the Go version.
func runVersion(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "version: %s\ncommit:  %s\ngo:      %s %s/%s\n",
		version, buildCommit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
