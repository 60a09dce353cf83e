package lifecycle

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recorder logs the starts and stops of its components.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, s)
}

// part is a component named name; it fails to start with failStart.
func (r *recorder) part(name string, failStart error) Component {
	return Hooks(func(context.Context) error {
		r.add("start " + name)
		return failStart
	}, func(context.Context) error {
		r.add("stop " + name)
		return nil
	})
}

func TestStartAllAndStopAll(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		parts   func(r *recorder) []Component
		wantErr error
		want    []string
	}{
		{"in order, stopped in reverse", func(r *recorder) []Component {
			return []Component{r.part("a", nil), r.part("b", nil), OnStop(func(context.Context) error { r.add("stop c"); return nil })}
		}, nil, []string{"start a", "start b", "stop c", "stop b", "stop a"}},
		{"a failed start stops what started", func(r *recorder) []Component {
			return []Component{r.part("a", nil), r.part("b", boom), r.part("c", nil)}
		}, boom, []string{"start a", "start b", "stop a"}},
		{"a group starts in order", func(r *recorder) []Component {
			return []Component{r.part("a", nil), Together(r.part("b", nil), r.part("c", boom))}
		}, boom, []string{"start a", "start b", "start c", "stop b", "stop a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			cs := tt.parts(r)
			err := StartAll(context.Background(), cs)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("StartAll: %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if err := StopAll(context.Background(), cs); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, r.log); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestTogetherStopsAtOnce: each stop of a group waits for the other's to
// begin, which only works when they run at the same time.
func TestTogetherStopsAtOnce(t *testing.T) {
	a, b := make(chan struct{}), make(chan struct{})
	stopper := func(mine, other chan struct{}) Component {
		return OnStop(func(ctx context.Context) error {
			close(mine)
			select {
			case <-other:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Together(stopper(a, b), stopper(b, a)).Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLoopRunsUntilStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	running, returned := make(chan struct{}), false
	l := Loop(func(ctx context.Context) {
		close(running)
		<-ctx.Done()
		returned = true
	})
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-running
	cancel() // the start's context does not stop a loop
	if err := l.Stop(context.Background()); err != nil || !returned {
		t.Fatalf("Stop = %v, loop returned %v", err, returned)
	}
}

func TestServe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hi") })}
	failures := NewFailures()
	c := Serve("http", srv, l, failures)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hi" {
		t.Errorf("body %q", body)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failures:
		t.Errorf("a shut down server reported %v", err)
	default:
	}

	// A server whose listener is gone fails, reported once.
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	l2.Close()
	if err := Serve("other", &http.Server{}, l2, failures).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failures:
		if !errors.Is(err, net.ErrClosed) || err.Error()[:7] != "other: " {
			t.Errorf("failure %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no failure reported")
	}
}

func TestFailuresKeepTheFirst(t *testing.T) {
	f := NewFailures()
	first := errors.New("first")
	f.Report(first)
	f.Report(errors.New("second"))
	if err := <-f; err != first {
		t.Errorf("got %v, want the first", err)
	}
}
