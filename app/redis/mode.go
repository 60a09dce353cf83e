package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// Mode is how a deployment reaches Redis.
type Mode string

// The modes of redis.mode.
const (
	ModeStandalone Mode = "standalone" // one server (today's behaviour)
	ModeSentinel   Mode = "sentinel"   // a master found through sentinels, replaced by them on failure
	ModeCluster    Mode = "cluster"    // a Redis Cluster: keys and sharded channels spread over its masters
)

// Failover reports whether Redis may promote a replica in mode m, so that
// streams are checked for writes lost in a failover.
func (m Mode) Failover() bool { return m == ModeSentinel || m == ModeCluster }

// isCluster reports whether rdb talks to a Redis Cluster: user channels
// are then sharded (SPUBLISH and SSUBSCRIBE).
func isCluster(rdb goredis.UniversalClient) bool {
	_, ok := rdb.(*goredis.ClusterClient)
	return ok
}

// publishCommand is the command that publishes on a user channel.
func publishCommand(rdb goredis.UniversalClient) string {
	if isCluster(rdb) {
		return "SPUBLISH"
	}
	return "PUBLISH"
}

func checkFlag(on bool) string {
	if on {
		return "1"
	}
	return "0"
}

// publish sends payload on a user channel: SPUBLISH on a Redis Cluster
// (only the shard owning the channel's slot carries it), PUBLISH
// elsewhere. It returns how many subscribers received it.
func publish(ctx context.Context, rdb goredis.UniversalClient, c goredis.Cmdable, channel, payload string) *goredis.IntCmd {
	if isCluster(rdb) {
		return c.SPublish(ctx, channel, payload)
	}
	return c.Publish(ctx, channel, payload)
}
