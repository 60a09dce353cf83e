package subscribe

// Subscribed returns how many user channels the subscriber holds state
// for (acquired, or still being unsubscribed).
func (s *Subscriber) Subscribed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}
