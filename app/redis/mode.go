package redis

import (
	"context"
	"errors"

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

// FollowFailover makes c read the cluster's slot map again when a pipeline
// fails on a connection error (a master died). go-redis does so for single
// commands but not for pipelines, which would otherwise keep going to the
// dead master until its periodic reload. A reload is asynchronous and
// coalesced by go-redis.
func FollowFailover(c *goredis.ClusterClient) { c.AddHook(reloadOnFailure{c}) }

type reloadOnFailure struct{ c *goredis.ClusterClient }

var _ goredis.Hook = reloadOnFailure{}

func (h reloadOnFailure) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }

func (h reloadOnFailure) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && !isReply(err) {
			h.c.ReloadState(context.WithoutCancel(ctx))
		}
		return err
	}
}

// isReply reports whether err is an error reply of Redis (not a network
// failure).
func isReply(err error) bool {
	var reply goredis.Error
	return errors.As(err, &reply)
}
