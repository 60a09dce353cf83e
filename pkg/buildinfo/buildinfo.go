// Package buildinfo names the commit a binary was built from.
package buildinfo

import "runtime/debug"

// Commit is set, the commit given at build time (-ldflags -X), unless it is
// "unknown" or empty: then the VCS revision go build stamped into the
// binary ("-dirty" when the tree had changes), if any, else set.
func Commit(set string) string {
	info, _ := debug.ReadBuildInfo()
	return commitOf(set, info)
}

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

// Version is set, the version given at build time (-ldflags -X), unless it
// is "dev" or empty: then the main module's version that go recorded (the
// tag for `go install ...@vX.Y.Z`, a pseudo-version such as
// v0.0.0-20261206112600-7270303ae71a+dirty for a build in a checkout), if
// any, else set.
func Version(set string) string {
	info, _ := debug.ReadBuildInfo()
	return versionOf(set, info)
}

func versionOf(set string, info *debug.BuildInfo) string {
	if set != "dev" && set != "" || info == nil {
		return set
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return set
}
