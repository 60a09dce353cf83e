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
