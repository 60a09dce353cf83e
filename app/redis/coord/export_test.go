package coord

// Kill makes Run return at once without removing the node's keys, as if the
// process had crashed: the node stays visible until TTL passes.
func (p *Presence) Kill() { p.killOnce.Do(func() { close(p.kill) }) }
