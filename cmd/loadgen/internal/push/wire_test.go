package push

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWireConnKeepsAliveAndRedials: answers of any framing come back whole
// on one connection; after the node closes it (asked for or not) the next
// request dials again, and the failed one is not sent twice.
func TestWireConnKeepsAliveAndRedials(t *testing.T) {
	var conns, requests atomic.Int32
	big := strings.Repeat("x", 64<<10) // net/http sends this chunked
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/api/push" || r.Header.Get("Authorization") != "Bearer k" ||
			r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch string(body) {
		case "big":
			io.WriteString(w, big)
		case "close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "hijack": // drop the connection without an answer
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		default:
			w.WriteHeader(http.StatusAccepted)
			w.Write(body)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	w, err := newWireConn(srv.URL, "/api/push", "k", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	type answer struct {
		Status int
		Body   string
		Err    bool
		Conns  int32
	}
	var got []answer
	for _, body := range []string{"a", "big", "b", "close", "c", "hijack", "d"} {
		status, b, err := w.post(context.Background(), []byte(body))
		got = append(got, answer{status, string(b), err != nil, conns.Load()})
	}
	want := []answer{
		{http.StatusAccepted, "a", false, 1},
		{http.StatusOK, big, false, 1},
		{http.StatusAccepted, "b", false, 1},
		{http.StatusOK, "bye", false, 1},
		{http.StatusAccepted, "c", false, 2},
		{0, "", true, 2},
		{http.StatusAccepted, "d", false, 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if n := requests.Load(); n != 7 {
		t.Errorf("the node got %d requests, want 7 (none sent twice)", n)
	}
}

func TestNewWireConnRefusesOtherURLs(t *testing.T) {
	for _, node := range []string{"https://127.0.0.1:1", "127.0.0.1:1", "http://", ":"} {
		if _, err := newWireConn(node, "/api/push", "", time.Second); err == nil {
			t.Errorf("newWireConn(%q) accepted it", node)
		}
	}
}
