package mysql

import (
	"slices"
	"sync"
	"time"

	"github.com/houseview/gateway/app"
)

// Houses change rarely (there is no API to change one) and every booking
// reads one: the store keeps each house it read for houseCacheTTL, so a
// change made elsewhere shows within that time.
const (
	houseCacheTTL  = time.Minute
	houseCacheSize = 10000 // houses kept at most; the cache starts over when full
)

type houseCache struct {
	mu sync.Mutex
	m  map[int64]cachedHouse
}

type cachedHouse struct {
	h       app.House
	expires time.Time
}

// get returns a copy of house id when it was read less than the TTL ago.
func (c *houseCache) get(id int64, now time.Time) (*app.House, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	h := e.h
	h.Tags = slices.Clone(h.Tags)
	return &h, true
}

func (c *houseCache) put(h *app.House, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= houseCacheSize {
		c.m = make(map[int64]cachedHouse)
	}
	kept := *h
	kept.Tags = slices.Clone(h.Tags) // the caller keeps h
	c.m[h.ID] = cachedHouse{h: kept, expires: now.Add(houseCacheTTL)}
}
