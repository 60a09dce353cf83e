package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
)

// PublishBatch sends every message of msgs as Publish does and returns
// their positions, in the order of msgs. The messages travel in one pipeline
// (one round trip) of EVALSHA calls of the publish script; if Redis lacks
// the script (NOSCRIPT, e.g. after a restart or SCRIPT FLUSH) it is loaded
// with SCRIPT LOAD and the pipeline is sent once more. Resending is safe:
// a message that was published before keeps its seq and is not delivered
// again.
//
// Each message is atomic on its own, the batch is not: on error some
// messages may have been published. Calling PublishBatch again with the
// same messages (same ids) completes the batch without duplicates.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []app.Message) ([]app.Position, error) {
	for _, m := range msgs {
		if err := checkPayload(m); err != nil {
			return nil, err
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	positions, err := p.publishPipeline(ctx, msgs)
	if !isNoScript(err) {
		return positions, err
	}
	if err := publishScript.Load(ctx, p.rdb).Err(); err != nil {
		return nil, fmt.Errorf("publish batch: load script: %w", err)
	}
	return p.publishPipeline(ctx, msgs)
}

// publishPipeline runs the publish script for each message in one
// pipeline. Its error is the first failed message's.
func (p *Publisher) publishPipeline(ctx context.Context, msgs []app.Message) ([]app.Position, error) {
	pipe := p.rdb.Pipeline()
	cmds := make([]*goredis.Cmd, len(msgs))
	for i, m := range msgs {
		cmds[i] = publishScript.EvalSha(ctx, pipe, p.keys.streamKeys(m.UserID), p.args(m)...)
	}
	// Exec's error is the first failed command's (a network error fails
	// them all), so each command is checked below; Exec's error stands for
	// a command left without a reply.
	_, execErr := pipe.Exec(ctx)
	// Every reply is read, so that what was published is counted even when
	// another message failed.
	positions := make([]app.Position, len(msgs))
	var first error
	for i, cmd := range cmds {
		res, err := cmd.Slice()
		if err != nil && cmd.Err() == nil && execErr != nil {
			err = execErr
		}
		pos, err := p.published(msgs[i], res, err)
		if err != nil && first == nil {
			first = fmt.Errorf("publish %s to user %d: %w", msgs[i].ID, msgs[i].UserID, err)
		}
		positions[i] = pos
	}
	if first != nil {
		return nil, first
	}
	return positions, nil
}

// isNoScript reports whether err means that Redis does not have the script.
func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT"))
}
