package redis

import (
	"context"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Script runs that callers make at about the same time travel together:
// RunScript queues its run, and at most maxCallPipelines goroutines each
// take what is queued (up to maxCallsPerPipeline) and send it in one
// pipeline, without waiting for more. A handshake's session check and
// history read, issued together, then cost one round trip, and under load
// the runs of many sessions share one write and one read on each side.
const (
	maxCallPipelines    = 4
	maxCallsPerPipeline = 256
	callsIdleExit       = 30 * time.Second // an idle sending goroutine ends after this
)

// scriptCall is one run of a script waiting for a pipeline.
type scriptCall struct {
	ctx    context.Context
	script *goredis.Script
	keys   []string
	args   []any
	cmd    *goredis.Cmd
	done   chan struct{}
}

// calls is a Conn's queue of script runs.
type calls struct {
	wake chan struct{} // wakes an idle sending goroutine

	mu      sync.Mutex
	queue   []*scriptCall
	senders int // goroutines sending the queue
}

// RunScript runs script once with keys and args, in a pipeline shared with
// the runs other goroutines ask for meanwhile. On NOSCRIPT it loads the
// script and runs it once more, as RunScripts does. When ctx ends first it
// returns ctx's error; the run may still happen.
func (c *Conn) RunScript(ctx context.Context, script *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	call := &scriptCall{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	if err := ctx.Err(); err != nil {
		call.fail(err)
		return call.cmd
	}
	c.calls.enqueue(c, call)
	select {
	case <-call.done:
		return call.cmd
	case <-ctx.Done():
		cmd := goredis.NewCmd(ctx)
		cmd.SetErr(ctx.Err())
		return cmd
	}
}

func (call *scriptCall) fail(err error) {
	call.cmd = goredis.NewCmd(call.ctx)
	call.cmd.SetErr(err)
	close(call.done)
}

func (q *calls) enqueue(c *Conn, call *scriptCall) {
	q.mu.Lock()
	q.queue = append(q.queue, call)
	start := q.senders < maxCallPipelines
	if start {
		q.senders++
	}
	q.mu.Unlock()
	if start {
		go q.send(c)
		return
	}
	select {
	case q.wake <- struct{}{}:
	default: // a goroutine is awake already
	}
}

// send sends the queue in pipelines until idle for callsIdleExit.
func (q *calls) send(c *Conn) {
	sendUntilIdle(q.take, c.runCalls, q.wake, callsIdleExit, func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		if len(q.queue) > 0 {
			return false
		}
		q.senders--
		return true
	})
}

// sendUntilIdle is the loop of a long-lived goroutine that sends a queue
// in batches: it sends what take returns until that is nil, then waits
// for wake; after idle without one it ends once leave agrees (the queue
// is empty: leave then stops counting the goroutine). Long-lived
// goroutines keep their grown stacks: a fresh one per burst would grow its
// stack again.
func sendUntilIdle[T any](take func() []T, send func([]T), wake <-chan struct{}, idle time.Duration, leave func() bool) {
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		if batch := take(); batch != nil {
			send(batch)
			continue
		}
		t.Reset(idle)
		select {
		case <-wake:
		case <-t.C:
			if leave() {
				return
			}
		}
	}
}

// take removes the next pipeline's runs from the queue (nil: none).
func (q *calls) take() []*scriptCall {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.queue), maxCallsPerPipeline)
	if n == 0 {
		return nil
	}
	batch := make([]*scriptCall, n)
	copy(batch, q.queue)
	clear(q.queue[:n])
	q.queue = q.queue[n:]
	return batch
}

// runCalls sends the live runs of batch in one pipeline (RunScripts) and
// hands each its command.
func (c *Conn) runCalls(batch []*scriptCall) {
	live := batch[:0]
	for _, call := range batch {
		if err := call.ctx.Err(); err != nil {
			call.fail(err)
			continue
		}
		live = append(live, call)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	defer cancel()
	cmds, _ := c.runScripts(ctx, len(live), func(i int) (*goredis.Script, []string, []any) {
		return live[i].script, live[i].keys, live[i].args
	})
	for i, call := range live {
		call.cmd = cmds[i]
		close(call.done)
	}
}
