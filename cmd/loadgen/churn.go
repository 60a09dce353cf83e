package main

import (
	"context"
	"math"
	"time"
)

// churn closes, every cfg.churnEvery, the open WebSockets of the next
// cfg.churnFraction of the users (in turn, so every user is churned alike);
// each user's hold loop reconnects and resumes from its position, as a
// client whose network dropped does. It runs until ctx ends.
func (g *clientGroup) churn(ctx context.Context, states []*userState) {
	per := max(int(math.Ceil(g.cfg.churnFraction*float64(len(states)))), 1)
	tick := time.NewTicker(g.cfg.churnEvery)
	defer tick.Stop()
	next := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for range per {
			st := states[next]
			next = (next + 1) % len(states)
			if c := st.conn.Load(); c != nil {
				_ = c.Close()
				g.churned.Add(1)
			}
		}
	}
}
