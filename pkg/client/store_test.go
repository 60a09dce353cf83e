package client

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "positions")
	s := NewFileStore(dir)
	if _, ok, err := s.Load(7); ok || err != nil {
		t.Fatalf("Load of nothing: ok %v, err %v", ok, err)
	}
	want := Position{Epoch: "abc", Seq: 42}
	if err := s.Save(7, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := NewFileStore(dir).Load(7) // another process, later
	if !ok || err != nil {
		t.Fatalf("Load: ok %v, err %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("position (-want +got):\n%s", diff)
	}
	if err := os.WriteFile(filepath.Join(dir, "8.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(8); ok || err != nil {
		t.Errorf("a torn file: ok %v, err %v; want none", ok, err)
	}
}

func TestTokenUser(t *testing.T) {
	payload := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct {
		token string
		want  int64
	}{
		{"h." + payload(`{"sub":"1001","exp":1}`) + ".sig", 1001},
		{"h." + payload(`{"sub":"abc"}`) + ".sig", 0},
		{"h." + payload(`{"sub":"-4"}`) + ".sig", 0},
		{"h." + payload(`{}`) + ".sig", 0},
		{"not-a-jwt", 0},
		{"h.!!!.sig", 0},
		{"", 0},
	} {
		if got := tokenUser(tt.token); got != tt.want {
			t.Errorf("tokenUser(%q) = %d, want %d", tt.token, got, tt.want)
		}
	}
}
