package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Probe publishes (SPUBLISH) to the probe channel of every shard
// connection each ProbeInterval until ctx is done. A connection whose
// probes, taken by Redis, have not come back for StaleAfter is silent
// though its master answers: it is retired and replaced (its users catch
// up). A failed publish (the master is unreachable) starts the count
// again: the broken connection is replaced when the slot map names a
// reachable master.
func (s *ShardedSubscriber) Probe(ctx context.Context) {
	t := time.NewTicker(s.opts.ProbeInterval)
	defer t.Stop()
	// Per connection: the oldest probe Redis took that has not come back,
	// and when Redis answered its publish.
	type waiting struct {
		sent  int64
		since time.Time
	}
	waits := map[*shard]*waiting{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		live := s.liveShards()
		seen := map[*shard]bool{}
		for _, sh := range live {
			seen[sh] = true
			w := waits[sh]
			if w == nil {
				w = &waiting{}
				waits[sh] = w
			}
			sent := time.Now().UnixNano()
			pctx, cancel := context.WithTimeout(ctx, s.opts.ProbeInterval)
			err := s.cluster.SPublish(pctx, sh.probe, strconv.FormatInt(sent, 10)).Err()
			cancel()
			switch {
			case err != nil:
				w.sent = 0
			case w.sent != 0 && sh.probeSent.Load() >= w.sent:
				w.sent = 0 // it came back
			}
			if err == nil && w.sent == 0 && sh.probeSent.Load() < sent {
				w.sent, w.since = sent, time.Now()
			}
			if w.sent != 0 && time.Since(w.since) >= s.opts.StaleAfter && time.Since(sh.born) >= s.opts.StaleAfter {
				s.opts.Logger.Warn("sharded pub/sub connection silent; replacing it", "shard", sh.addr)
				if !sh.lost.Swap(true) {
					s.remapSoon()
				}
			}
		}
		for sh := range waits {
			if !seen[sh] {
				delete(waits, sh)
			}
		}
	}
}

// Healthy reports whether every slot has a master this node is connected
// to and every connection delivered its probe within StaleAfter: the node
// then receives what is published to any user.
func (s *ShardedSubscriber) Healthy() error {
	s.mu.Lock()
	uncovered := 0
	for _, sh := range s.owners {
		if sh == nil || sh.lost.Load() {
			uncovered++
		}
	}
	s.mu.Unlock()
	if uncovered > 0 {
		return fmt.Errorf("%w: %d of %d slots have no reachable master", ErrSubscriptionStale, uncovered, SlotCount)
	}
	for _, sh := range s.liveShards() {
		last := time.Unix(0, sh.lastProbe.Load())
		if age := time.Since(last); age > s.opts.StaleAfter {
			return fmt.Errorf("%w: shard %s: no probe for %s", ErrSubscriptionStale, sh.addr, age.Round(time.Millisecond))
		}
	}
	return nil
}
