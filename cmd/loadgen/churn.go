package main

import (
	"context"
	"math"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// churnable returns a copy of d that remembers the user's TCP connection,
// so that the churn can drop it.
func (st *userState) churnable(d *websocket.Dialer) *websocket.Dialer {
	own := *d
	own.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			st.conn.Store(&c)
		}
		return c, err
	}
	return &own
}

// churn drops, every cfg.churnEvery, the connections of the next
// cfg.churnFraction of the users (in turn, so every user is churned alike),
// as a network that fails does: each user's client reconnects and resumes
// from its position. It runs until ctx ends.
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
			if c := st.conn.Swap(nil); c != nil {
				_ = (*c).Close()
				g.churned.Add(1)
			}
		}
	}
}
