package coord

import (
	"context"
	"strconv"
	"time"
)

// Count returns how many sessions of user count now.
func (r *SessionRegistry) Count(ctx context.Context, user int64) (int64, error) {
	return r.rdb.ZCount(ctx, r.keys.Sessions(user), strconv.FormatInt(time.Now().UnixMilli(), 10), "+inf").Result()
}
