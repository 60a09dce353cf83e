package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestCommitOf(t *testing.T) {
	stamped := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"}}}
	dirty := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name string
		set  string
		info *debug.BuildInfo
		want string
	}{
		{"ldflags win", "f00d", stamped, "f00d"},
		{"vcs stamp", "unknown", stamped, "abc123"},
		{"modified tree", "unknown", dirty, "abc123-dirty"},
		{"no stamp", "unknown", &debug.BuildInfo{}, "unknown"},
		{"no build info", "unknown", nil, "unknown"},
	}
	for _, tt := range tests {
		if got := commitOf(tt.set, tt.info); got != tt.want {
			t.Errorf("%s: commitOf = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVersionOf(t *testing.T) {
	tests := []struct {
		name string
		set  string
		info *debug.BuildInfo
		want string
	}{
		{"ldflags win", "v1.2.0", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-x"}}, "v1.2.0"},
		{"go install at a tag", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, "v1.3.0"},
		{"checkout pseudo-version", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206112600-7270303ae71a+dirty"}}, "v0.0.0-20261206112600-7270303ae71a+dirty"},
		{"devel", "dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"no build info", "dev", nil, "dev"},
	}
	for _, tt := range tests {
		if got := versionOf(tt.set, tt.info); got != tt.want {
			t.Errorf("%s: versionOf = %q, want %q", tt.name, got, tt.want)
		}
	}
}
