package ws

import "sync/atomic"

type counters struct {
	opened, drained, slow, badFrames atomic.Int64
	written, replayed, duplicates    atomic.Int64
	resets                           atomic.Int64
	catching                         atomic.Int64
}

// Stats are the node's delivery counters since start.
type Stats struct {
	Connections int   `json:"connections"`
	Users       int   `json:"users"`
	CatchingUp  int64 `json:"sessions_catching_up"`
	Opened      int64 `json:"sessions_opened"`
	Drained     int64 `json:"sessions_drained"`
	SlowClosed  int64 `json:"slow_consumer_closes"`
	BadFrames   int64 `json:"bad_frames"`
	Written     int64 `json:"messages_written"`
	Replayed    int64 `json:"messages_replayed"`
	Duplicates  int64 `json:"duplicates_skipped"`
	Resets      int64 `json:"stream_resets"`
}

// Stats returns the node's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Connections: h.Connections(), Users: h.Users(), CatchingUp: h.stats.catching.Load(),
		Opened: h.stats.opened.Load(), Drained: h.stats.drained.Load(), SlowClosed: h.stats.slow.Load(),
		BadFrames: h.stats.badFrames.Load(), Written: h.stats.written.Load(),
		Replayed: h.stats.replayed.Load(), Duplicates: h.stats.duplicates.Load(), Resets: h.stats.resets.Load(),
	}
}
