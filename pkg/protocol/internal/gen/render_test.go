package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const root = "../../../.."

// TestGeneratedTablesAreCurrent fails while a file that repeats the
// protocol's tables (docs/protocol.md, the JavaScript client, its types,
// the shared test vectors) disagrees with package protocol.
func TestGeneratedTablesAreCurrent(t *testing.T) {
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range files {
		old, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(old)); diff != "" {
			t.Errorf("%s differs from pkg/protocol: run make protocol (-want +got):\n%s", file, diff)
		}
	}
}
