// Package lifecycle starts the parts of a long-running program in order and
// stops them in reverse, so that each part starts after the parts it uses
// and stops before them.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
)

// Component is a part of a running program.
type Component interface {
	// Start begins the part's work and returns once it runs.
	Start(ctx context.Context) error
	// Stop ends the part's work, finishing what is in flight within ctx.
	Stop(ctx context.Context) error
}

// StartAll starts cs in order. When one fails, it stops the ones it
// started, in reverse, and returns the failure.
func StartAll(ctx context.Context, cs []Component) error {
	for i, c := range cs {
		if err := c.Start(ctx); err != nil {
			return errors.Join(err, StopAll(context.WithoutCancel(ctx), cs[:i]))
		}
	}
	return nil
}

// StopAll stops cs in reverse order, every one even when some fail.
func StopAll(ctx context.Context, cs []Component) error {
	var errs []error
	for _, c := range slices.Backward(cs) {
		errs = append(errs, c.Stop(ctx))
	}
	return errors.Join(errs...)
}

type hooks struct{ start, stop func(context.Context) error }

func (h hooks) Start(ctx context.Context) error { return h.start(ctx) }
func (h hooks) Stop(ctx context.Context) error  { return h.stop(ctx) }

// Hooks is the component that runs start and stop.
func Hooks(start, stop func(context.Context) error) Component { return hooks{start, stop} }

// OnStop is a component with nothing to start: a step of the shutdown.
func OnStop(stop func(context.Context) error) Component {
	return hooks{start: func(context.Context) error { return nil }, stop: stop}
}

// Closer is the component that closes c when it stops.
func Closer(c io.Closer) Component {
	return OnStop(func(context.Context) error { return c.Close() })
}

// loop is a background loop: it runs from Start until Stop cancels it, and
// Stop returns once it did (a loop's last act may be a final write).
type loop struct {
	run    func(context.Context)
	cancel context.CancelFunc
	done   chan struct{}
}

// Loop is the component that runs run in the background, with a context
// that only Stop cancels.
func Loop(run func(context.Context)) Component { return &loop{run: run} }

func (l *loop) Start(ctx context.Context) error {
	ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		l.run(ctx)
	}()
	return nil
}

func (l *loop) Stop(context.Context) error {
	l.cancel()
	<-l.done
	return nil
}

// together is components started in order and stopped at once.
type together []Component

// Together is the component that starts cs in order and stops them at
// once, within one deadline: servers finishing their work side by side.
func Together(cs ...Component) Component { return together(cs) }

func (t together) Start(ctx context.Context) error { return StartAll(ctx, t) }

func (t together) Stop(ctx context.Context) error {
	errs := make([]error, len(t))
	var wg sync.WaitGroup
	for i, c := range t {
		wg.Go(func() { errs[i] = c.Stop(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Server serves the connections of a listener until it is shut down: an
// *http.Server, a gRPC server.
type Server interface {
	Serve(l net.Listener) error
	Shutdown(ctx context.Context) error
}

// Failures carries the first failure of the components that work in the
// background, which ends the program.
type Failures chan error

// NewFailures returns a Failures that keeps the first failure reported.
func NewFailures() Failures { return make(Failures, 1) }

// Report records err unless a failure was reported before.
func (f Failures) Report(err error) {
	select {
	case f <- err:
	default:
	}
}

// Serve is the component that serves l with srv, named name in errors: it
// reports a failure of Serve to failures, and Stop shuts srv down.
func Serve(name string, srv Server, l net.Listener, failures Failures) Component {
	return hooks{
		start: func(context.Context) error {
			go func() {
				if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
					failures.Report(fmt.Errorf("%s: %w", name, err))
				}
			}()
			return nil
		},
		stop: func(ctx context.Context) error {
			if err := srv.Shutdown(ctx); err != nil {
				return fmt.Errorf("%s shutdown: %w", name, err)
			}
			return nil
		},
	}
}
