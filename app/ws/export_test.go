package ws

// StateMoves lists, by state name, the states each may move to.
func StateMoves() map[string][]string {
	out := map[string][]string{}
	for s := subscribing; s <= closed; s++ {
		var to []string
		for t := subscribing; t <= closed; t++ {
			if s.may(t) {
				to = append(to, t.String())
			}
		}
		out[s.String()] = to
	}
	return out
}

// TrackedSessions is how many melody sessions h can still find a conn for.
func (h *Hub) TrackedSessions() int {
	n := 0
	for i := range h.conns.shards {
		sh := &h.conns.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}
