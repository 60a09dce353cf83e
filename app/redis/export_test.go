package redis

// Subscribed returns how many user channels the subscriber holds state
// for (acquired, or still being unsubscribed).
func (s *Subscriber) Subscribed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Kill makes Run return at once without removing the node's keys, as if the
// process had crashed: the node stays visible until TTL passes.
func (p *Presence) Kill() { p.killOnce.Do(func() { close(p.kill) }) }
