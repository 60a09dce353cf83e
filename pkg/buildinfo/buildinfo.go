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
