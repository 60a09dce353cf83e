package redis

// WithMode returns a copy of c that takes Redis to be in mode m (whose
// client it keeps): sentinel, to check streams for failovers on a server
// that is not behind sentinels.
func (c *Conn) WithMode(m Mode) *Conn {
	d := *c
	d.mode = m
	return &d
}
