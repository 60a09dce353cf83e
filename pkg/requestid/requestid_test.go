package requestid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/houseview/gateway/pkg/requestid"
)

func TestValid(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"abc-DEF_012.x", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{"ünicode", false},
		{"a/b", false},
	} {
		if got := requestid.Valid(tt.id); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestEnsure(t *testing.T) {
	if got := requestid.Ensure("given-1"); got != "given-1" {
		t.Errorf("Ensure(valid) = %q", got)
	}
	a, b := requestid.Ensure("bad id"), requestid.Ensure("")
	if !requestid.Valid(a) || !requestid.Valid(b) || a == b || len(a) != 32 {
		t.Errorf("generated ids %q %q: want two distinct valid 32-char ids", a, b)
	}
}

func TestHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := requestid.Logger(slog.New(slog.NewJSONHandler(&buf, nil))).With("node_id", "n1")
	if requestid.Logger(log) != log {
		t.Error("wrapping a wrapped logger again made a new one")
	}
	ctx := requestid.NewContext(context.Background(), "rid-1")
	log.InfoContext(ctx, "with")
	log.InfoContext(context.Background(), "without")
	log.Info("no context")

	var got []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != 3 {
		t.Fatalf("%d records, want 3: %s", len(got), buf.String())
	}
	if got[0]["request_id"] != "rid-1" || got[0]["node_id"] != "n1" {
		t.Errorf("record logged with the context = %v, want request_id rid-1 and node_id n1", got[0])
	}
	for _, m := range got[1:] {
		if _, ok := m["request_id"]; ok {
			t.Errorf("record without a request id in its context has one: %v", m)
		}
	}
}
