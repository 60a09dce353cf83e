package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/houseview/gateway/app"
)

// Publishes that arrive together travel together: the publisher keeps a
// queue of jobs, and at most maxPipelines goroutines each take what is
// queued (up to maxPipelineMessages messages) and send it in one pipeline,
// one round trip. Under load (a pipeline went out less than BatchWait
// ago), a goroutine that finds only a few messages waits BatchWait for
// more; alone, a publish goes out at once. Each message stays atomic on its
// own (one script call).
const (
	maxPipelines        = 2
	maxPipelineMessages = 512
	smallPipeline       = 64 // fewer queued messages than this are worth waiting for more
	pipelineTimeout     = 5 * time.Second
	pipelineIdleExit    = 30 * time.Second // an idle pipeline goroutine ends after this
)

// publishJob is one PublishBatch call waiting for its pipeline.
type publishJob struct {
	ctx       context.Context
	msgs      []app.Message
	positions []app.Position
	err       error
	done      chan struct{}
}

// PublishBatch sends every message of msgs as Publish does and returns
// their positions, in the order of msgs, in one round trip shared with
// the publishes of other callers. If Redis lacks the script (NOSCRIPT,
// after a restart or SCRIPT FLUSH) it is loaded and the pipeline sent once
// more: resending is safe, as a message published before keeps its seq.
//
// Each message is atomic on its own, the batch is not: on error some
// messages may have been published. Calling PublishBatch again with the
// same messages (same ids) completes the batch without duplicates.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error) {
	for _, m := range msgs {
		if err := checkPayload(m); err != nil {
			return nil, err
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

// enqueue queues j, wakes an idle pipeline goroutine, and starts one when
// fewer than maxPipelines run.
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
		return
	}
	select {
	case p.work <- struct{}{}:
	default: // a goroutine is awake already
	}
}

// sendQueued sends the queue in pipelines, waiting for work between them;
// it ends after pipelineIdleExit without any. Long-lived goroutines keep
// their grown stacks: a fresh one per burst would grow its stack again.
func (p *Publisher) sendQueued() {
	idle := time.NewTimer(pipelineIdleExit)
	defer idle.Stop()
	for {
		batch := p.take()
		if batch != nil {
			p.send(batch)
			continue
		}
		idle.Reset(pipelineIdleExit)
		select {
		case <-p.work:
		case <-idle.C:
			p.mu.Lock()
			if len(p.queue) == 0 {
				p.pipelines--
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
		}
	}
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

// send publishes the messages of jobs in one pipeline (twice on NOSCRIPT)
// and hands each job its positions or first error. Every reply is read,
// so that what was published is counted even when another message failed;
// the pipeline's error stands for a command left without a reply.
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
