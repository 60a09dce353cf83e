package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSecretsInit: the first run creates both files (random hex, 0600,
// distinct), a second keeps them, a lost one is created again alone, an
// empty one is an error; nothing secret is printed.
func TestSecretsInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	read := func() map[string]string {
		out := map[string]string{}
		for _, s := range generatedSecrets {
			b, err := os.ReadFile(filepath.Join(dir, s.name))
			if err == nil {
				out[s.name] = strings.TrimSpace(string(b))
			}
		}
		return out
	}
	lines := func(verbs ...string) string {
		var b strings.Builder
		for i, s := range generatedSecrets {
			b.WriteString(verbs[i] + " " + filepath.Join(dir, s.name) + " (" + EnvName(s.key) + "_FILE)\n")
		}
		return b.String()
	}

	out, err := runCommand(t, nil, "secrets", "init", "-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines("created", "created"), out); diff != "" {
		t.Errorf("first run output (-want +got):\n%s", diff)
	}
	first := read()
	for _, s := range generatedSecrets {
		v := first[s.name]
		if raw, err := hex.DecodeString(v); err != nil || len(raw) != s.size {
			t.Errorf("%s: %d hex characters (%v), want %d random bytes", s.name, len(v), err, s.size)
		}
		if strings.Contains(out, v) {
			t.Errorf("output shows the content of %s", s.name)
		}
		if fi, err := os.Stat(filepath.Join(dir, s.name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", s.name, fi.Mode().Perm(), err)
		}
	}
	if first["jwt_secret"] == first["api_key"] {
		t.Error("jwt_secret and api_key are equal")
	}

	out, err = runCommand(t, nil, "secrets", "init", "-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines("kept", "kept"), out); diff != "" {
		t.Errorf("second run output (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first, read()); diff != "" {
		t.Errorf("second run changed the secrets (-want +got):\n%s", diff)
	}

	os.Remove(filepath.Join(dir, "api_key"))
	if out, err = runCommand(t, nil, "secrets", "init", "-dir", dir); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines("kept", "created"), out); diff != "" {
		t.Errorf("run after losing api_key (-want +got):\n%s", diff)
	}
	third := read()
	if third["jwt_secret"] != first["jwt_secret"] || third["api_key"] == first["api_key"] || third["api_key"] == "" {
		t.Error("the jwt secret changed, or the api key was not made anew")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(generatedSecrets) {
		t.Errorf("dir holds %d entries, want only the secrets", len(entries))
	}

	if err := os.WriteFile(filepath.Join(dir, "jwt_secret"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCommand(t, nil, "secrets", "init", "-dir", dir); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty jwt_secret: %v, want an error saying it is empty", err)
	}
	if _, err := runCommand(t, nil, "secrets", "init"); err == nil {
		t.Error("secrets init without -dir succeeded")
	}
}
