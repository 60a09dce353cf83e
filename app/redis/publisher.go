package redis

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/houseview/gateway/app"
)

// Defaults for stored messages.
const (
	DefaultHistorySize = 1000
	DefaultHistoryTTL  = 7 * 24 * time.Hour
)

// PublisherOptions bound what is kept per user.
type PublisherOptions struct {
	HistorySize int            // messages (and message ids) kept per user (default 1000)
	HistoryTTL  time.Duration  // how long a user's keys live after the last message (default 7 days)
	Metrics     PublishMetrics // nil: not counted
	// BatchWait is how long, under load, a pipeline with few messages
	// waits for more (0: never waits). Fewer round trips cost Redis and
	// the node less per message, for that much latency.
	BatchWait time.Duration
}

// PublishMetrics counts messages. Its methods must not block.
type PublishMetrics interface {
	// MessagePublished counts a message stored and published now (not one
	// published before under the same id); msgType is MessageType's.
	MessagePublished(msgType string)
}

// Publisher delivers messages: one atomic step per message gives it the
// next seq of its recipient's stream, stores it and publishes it. A message
// id published again while still stored returns its first position and
// delivers nothing more.
type Publisher struct {
	c       *Conn
	size    int
	ttl     int64 // seconds
	metrics PublishMetrics

	batchWait time.Duration
	work      chan struct{} // wakes an idle pipeline goroutine
	fixed     [4]any        // the script's arguments that never change, boxed once: size, ttl, slack, command

	mu        sync.Mutex
	queue     []*publishJob // publishes waiting for a pipeline
	queued    int           // messages in queue
	pipelines int           // goroutines sending the queue
	lastSent  time.Time     // when the last pipeline was taken
}

// NewPublisher returns a Publisher on c.
func NewPublisher(c *Conn, opts PublisherOptions) *Publisher {
	p := &Publisher{c: c, size: cmp.Or(max(opts.HistorySize, 0), DefaultHistorySize),
		ttl:     int64(cmp.Or(max(opts.HistoryTTL, 0), DefaultHistoryTTL) / time.Second),
		metrics: opts.Metrics, batchWait: opts.BatchWait, work: make(chan struct{}, 1)}
	p.fixed = [4]any{p.size, p.ttl, expirySlack(p.ttl), c.publishCommand()}
	return p
}

// Publish sends m to its recipient and returns the position it was given,
// as PublishBatch does.
func (p *Publisher) Publish(ctx context.Context, m app.Message) (app.Position, error) {
	positions, err := p.PublishBatch(ctx, []app.Message{m})
	if err != nil {
		return app.Position{}, err
	}
	return positions[0], nil
}

func (p *Publisher) args(m app.Message) []any {
	return []any{p.c.keys.Channel(m.UserID), idField(m.ID), m.Payload, p.fixed[0], p.fixed[1], p.fixed[2], Token(),
		p.fixed[3], p.c.failover(), muted(m.Muted)}
}

// published reads the publish script's reply {seq, fresh, epoch}.
func (p *Publisher) published(m app.Message, res []any, err error) (app.Position, error) {
	if err != nil {
		return app.Position{}, err
	}
	if len(res) != 3 {
		return app.Position{}, fmt.Errorf("publish script replied %v", res)
	}
	seq, _ := res[0].(int64)
	fresh, _ := res[1].(int64)
	epoch, _ := res[2].(string)
	if seq <= 0 || epoch == "" {
		return app.Position{}, fmt.Errorf("publish script replied %v", res)
	}
	if fresh == 1 && p.metrics != nil {
		p.metrics.MessagePublished(MessageType(m.Payload))
	}
	return app.Position{Epoch: epoch, Seq: seq, Muted: m.Muted}, nil
}

// muted is the publish script's muted argument.
func muted(m bool) string {
	if m {
		return "1"
	}
	return "0"
}

// Publishes that arrive together travel together: at most maxPipelines
// goroutines each take what is queued (up to maxPipelineMessages) and send
// it in one pipeline. Under load (a pipeline went out less than BatchWait
// ago) one that finds few messages waits BatchWait for more; alone, a
// publish goes out at once.
const (
	maxPipelines        = 2
	maxPipelineMessages = 512
	smallPipeline       = 64 // fewer queued messages than this are worth waiting for more
	pipelineTimeout     = 5 * time.Second
	pipelineIdleExit    = 30 * time.Second // an idle pipeline goroutine ends after this
)

type publishJob struct {
	ctx       context.Context
	msgs      []app.Message
	positions []app.Position
	err       error
	done      chan struct{}
}

// PublishBatch publishes msgs and returns their positions, in order, in
// one round trip shared with other callers' publishes. Each message is
// atomic, the batch is not: after an error, calling it again with the same
// messages (same ids) completes the batch without duplicates.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error) {
	for _, m := range msgs {
		if len(m.Payload) < 2 || m.Payload[0] != '{' {
			return nil, fmt.Errorf("publish %s: payload is not a JSON object", m.ID)
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j := &publishJob{ctx: ctx, msgs: msgs, done: make(chan struct{})}
	p.enqueue(j)
	select {
	case <-j.done:
		return j.positions, j.err
	case <-ctx.Done():
		// It may still be published: as any publish whose answer was lost.
		return nil, ctx.Err()
	}
}

func (p *Publisher) enqueue(j *publishJob) {
	p.mu.Lock()
	p.queue = append(p.queue, j)
	p.queued += len(j.msgs)
	start := p.pipelines < maxPipelines
	if start {
		p.pipelines++
	}
	p.mu.Unlock()
	if start {
		go p.sendQueued()
	} else {
		select {
		case p.work <- struct{}{}:
		default: // a goroutine is awake already
		}
	}
}

// sendQueued sends the queue in pipelines until idle for pipelineIdleExit.
// Long-lived goroutines keep their grown stacks: a fresh one per burst
// would grow its stack again.
func (p *Publisher) sendQueued() {
	sendUntilIdle(p.take, p.send, p.work, pipelineIdleExit, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.queue) > 0 {
			return false
		}
		p.pipelines--
		return true
	})
}

// take removes the next pipeline's jobs from the queue (nil: none). Under
// load it waits BatchWait once for a small batch to grow.
func (p *Publisher) take() []*publishJob {
	p.mu.Lock()
	if len(p.queue) == 0 {
		p.mu.Unlock()
		return nil
	}
	if p.batchWait > 0 && p.queued < smallPipeline && time.Since(p.lastSent) < p.batchWait {
		p.mu.Unlock()
		time.Sleep(p.batchWait)
		p.mu.Lock()
		if len(p.queue) == 0 { // another goroutine took it
			p.mu.Unlock()
			return nil
		}
	}
	n, count := 0, 0
	for n < len(p.queue) && (n == 0 || count+len(p.queue[n].msgs) <= maxPipelineMessages) {
		count += len(p.queue[n].msgs)
		n++
	}
	batch := make([]*publishJob, n)
	copy(batch, p.queue)
	clear(p.queue[:n])
	p.queue = p.queue[n:]
	p.queued -= count
	p.lastSent = time.Now()
	p.mu.Unlock()
	return batch
}

// send publishes the messages of jobs in one pipeline and hands each job
// its positions or first error. Every reply is read, so that what was
// published is counted even when another message failed; the pipeline's
// error stands for a command left without a reply.
func (p *Publisher) send(jobs []*publishJob) {
	live := jobs[:0:0]
	var msgs []app.Message
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.err = err
			close(j.done)
			continue
		}
		live = append(live, j)
		msgs = append(msgs, j.msgs...)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	defer cancel()
	cmds, execErr := p.c.RunScripts(ctx, publishScript, len(msgs), func(i int) ([]string, []any) {
		return p.c.keys.streamKeys(msgs[i].UserID), p.args(msgs[i])
	})
	for _, j := range live {
		j.positions = make([]app.Position, len(j.msgs))
		for k, m := range j.msgs {
			res, err := cmds[0].Slice()
			if err != nil && cmds[0].Err() == nil && execErr != nil {
				err = execErr
			}
			cmds = cmds[1:]
			pos, err := p.published(m, res, err)
			if err != nil && j.err == nil {
				j.err = fmt.Errorf("publish %s to user %d: %w", m.ID, m.UserID, err)
			}
			j.positions[k] = pos
		}
		if j.err != nil {
			j.positions = nil
		}
		close(j.done)
	}
}
