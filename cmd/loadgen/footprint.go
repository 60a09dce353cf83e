package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// footprintConfig is the footprint scenario: what a deployment keeps in
// Redis per idle user, per user with messages and per stored message.
type footprintConfig struct {
	users, messages, idle int
}

func (c *footprintConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.users, "users", 1000, "users that get messages (never connected while they do)")
	fs.IntVar(&c.messages, "messages", 50, "messages per user (at least 2; keep under history.size)")
	fs.IntVar(&c.idle, "idle", 2000, "idle users: connect once, get nothing")
}

func (c *footprintConfig) check() error {
	if c.users <= 0 || c.messages < 2 || c.idle <= 0 {
		return errors.New("-users and -idle must be positive, -messages at least 2")
	}
	return errors.Join(checkSpread("-idle", c.idle, 1), checkSpread("-users", c.users, 1))
}

// footprintReport is Redis's memory and keys after the scenario's steps.
type footprintReport struct {
	IdleUsers        int     `json:"idle_users"`
	BytesPerIdleUser float64 `json:"bytes_per_idle_user"`
	KeysPerIdleUser  float64 `json:"keys_per_idle_user"`
	Users            int     `json:"users"`
	Messages         int     `json:"messages_per_user"`
	BytesPerMessage  float64 `json:"bytes_per_stored_message"` // marginal: second half of the fill
	BytesPerUser     float64 `json:"bytes_per_active_user"`    // fixed part of a user with messages
	keyCounts
	NodeCPU       float64        `json:"node_cpu_seconds"`
	RedisCPU      float64        `json:"redis_cpu_seconds"`
	RedisUSPerMsg float64        `json:"redis_us_per_message"` // during the fill (50 users per push)
	Fill          int            `json:"fill_accepted"`
	Delivery      deliveryReport `json:"replay_delivery"` // the users connect at the end and get their stored messages
}

func (r *footprintReport) failures() []string {
	f := r.Delivery.failures()
	if want := r.Users * r.Messages; r.Fill != want {
		f = append(f, fmt.Sprintf("%d of %d fill messages accepted", r.Fill, want))
	}
	return f
}

// idleUserOffset puts the idle users apart from the users with messages.
const idleUserOffset = 1_000_000

// run measures Redis's used_memory per idle user (one that connected once
// and got nothing), per stored message and per user with messages, counts
// keys per user and keys without a TTL; then the users with messages
// connect and must get every stored message once. used_memory is the whole
// server's: use -own-redis.
func (c *footprintConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "footprint: %d idle users, %d users × %d messages (50 users per push)\n", c.idle, c.users, c.messages)
	if !o.cfg.ownRedis {
		fmt.Fprintln(o.out, "  warning: without -own-redis, used_memory counts whatever else the shared Redis holds")
	}
	nodes, err := o.startNodes(ctx, 1)
	if err != nil {
		return nil, err
	}
	node := nodes[0]
	rep := &footprintReport{IdleUsers: c.idle, Users: c.users, Messages: c.messages}
	mem0, keys0, err := o.settledMemory(ctx)
	if err != nil {
		return nil, err
	}
	cps, _, err := o.startClients(ctx, nodes, c.idle, 1, idleUserOffset, clientOpts{})
	if err != nil {
		return nil, err
	}
	if _, err := cps.summaries(); err != nil {
		return nil, err
	}
	if err := waitNoConnections(ctx, o, node.HTTPURL); err != nil {
		return nil, err
	}
	mem1, keys1, err := o.settledMemory(ctx)
	if err != nil {
		return nil, err
	}
	rep.BytesPerIdleUser = round2(float64(mem1-mem0) / float64(c.idle))
	rep.KeysPerIdleUser = round2(float64(keys1-keys0) / float64(c.idle))

	cpu0, redis0 := cpuSeconds(node.Pid()), o.rdb.cpuSeconds()
	half := c.messages / 2
	fill, err := fillUsers(ctx, node.HTTPURL, o.apiKey, c.users, half)
	if err != nil {
		return nil, err
	}
	mem2, _, err := o.settledMemory(ctx)
	if err != nil {
		return nil, err
	}
	more, err := fillUsers(ctx, node.HTTPURL, o.apiKey, c.users, c.messages-half)
	if err != nil {
		return nil, err
	}
	fill = append(fill, more...)
	rep.Fill = len(fill)
	rep.NodeCPU, rep.RedisCPU = round2(cpuSeconds(node.Pid())-cpu0), round2(o.rdb.cpuSeconds()-redis0)
	rep.RedisUSPerMsg = cpuShare(rep.RedisCPU, int64(c.users*c.messages))
	mem3, _, err := o.settledMemory(ctx)
	if err != nil {
		return nil, err
	}
	rep.BytesPerMessage = round2(float64(mem3-mem2) / float64(c.users*(c.messages-half)))
	rep.BytesPerUser = round2(float64(mem2-mem1)/float64(c.users) - float64(half)*rep.BytesPerMessage)
	if rep.keyCounts, err = o.rdb.countKeys(ctx); err != nil {
		return nil, err
	}
	if rep.Delivery, err = replayStored(ctx, o, nodes, c.users, fill); err != nil {
		return nil, err
	}
	stopNodes(nodes)
	return rep, nil
}

// settledMemory reads used_memory and the number of keys once presence
// writes and cursor flushes had a second to settle.
func (o *orch) settledMemory(ctx context.Context) (mem, keys int64, err error) {
	if !sleepCtx(ctx, time.Second) {
		return 0, 0, ctx.Err()
	}
	if mem, err = o.rdb.usedMemory(); err != nil {
		return 0, 0, err
	}
	keys, err = o.rdb.Client.DBSize(ctx).Result()
	return mem, keys, err
}

// replayStored connects users 1..users, which never had a session, and
// checks that each gets its stored messages (fill) once.
func replayStored(ctx context.Context, o *orch, nodes []*gatewayNode, users int, fill []pushResult) (deliveryReport, error) {
	cps, _, err := o.startClients(ctx, nodes, users, 1, 0, clientOpts{})
	if err != nil {
		return deliveryReport{}, err
	}
	if _, all := cps.waitReceived(ctx, int64(len(fill)), time.Minute); !all {
		fmt.Fprintf(o.out, "  replay: %d of %d stored messages arrived within a minute\n", cps.received(), len(fill))
	}
	if !sleepCtx(ctx, time.Second) {
		return deliveryReport{}, ctx.Err()
	}
	sums, err := cps.summaries()
	if err != nil {
		return deliveryReport{}, err
	}
	return mergeDelivery(fill, sums), nil
}

// footprintDetail is a message detail about the size of a reservation's.
var footprintDetail = json.RawMessage(`{"reservation_id":12345,"house_id":3001,"house_title":"精装修两室一厅",` +
	`"landlord_id":2001,"user_id":1001,"user_name":"张三","reserve_time":"2026-12-22 14:00:00","status":"confirmed",` +
	`"reason":"","created_at":1795638260,"updated_at":1795638260}`)

// fillUsers pushes n messages to each of users 1..users, 50 users per
// request, 8 requests at once, and returns the accepted messages.
func fillUsers(ctx context.Context, base, apiKey string, users, n int) ([]pushResult, error) {
	type job struct{ ids []int64 }
	jobs := make(chan job)
	errs := make(chan error, 8)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out []pushResult
	)
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	for range 8 {
		wg.Go(func() {
			for j := range jobs {
				body, _ := json.Marshal(map[string]any{"user_ids": j.ids, "title": "系统通知",
					"content": "您预约的房源有新的消息，请查看", "detail": footprintDetail})
				got, err := postPush(ctx, client, base, apiKey, body, len(j.ids))
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				mu.Lock()
				for _, r := range got {
					out = append(out, pushResult{User: r.UserID, Epoch: r.Epoch, Seq: r.Seq, IDHash: idHash(r.ID)})
				}
				mu.Unlock()
			}
		})
	}
	var err error
send:
	for range n {
		for u := 1; u <= users; u += 50 {
			ids := make([]int64, 0, 50)
			for v := u; v < u+50 && v <= users; v++ {
				ids = append(ids, int64(v))
			}
			select {
			case jobs <- job{ids}:
			case err = <-errs:
				break send
			}
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return out, err
}

// waitNoConnections waits until the node reports no WebSocket session.
func waitNoConnections(ctx context.Context, o *orch, base string) error {
	total := -1
	ok := waitFor(ctx, 30*time.Second, func() bool {
		total = 0
		for _, n := range nodeConnections(o.fetchStats(base)) {
			total += n
		}
		return total == 0
	})
	if !ok {
		return fmt.Errorf("node still reports %d connections", total)
	}
	return nil
}

func (r *footprintReport) printTable(w io.Writer) {
	d := r.Delivery
	printRows(w, "footprint", [][2]string{
		{"used_memory per idle user", fmt.Sprintf("%.0f B (%.2f keys), %d idle users", r.BytesPerIdleUser, r.KeysPerIdleUser, r.IdleUsers)},
		{"used_memory per stored message", fmt.Sprintf("%.0f B (stored message %.0f B)", r.BytesPerMessage, r.MessageBytes)},
		{"fixed per user with messages", fmt.Sprintf("%.0f B (%d users × %d messages)", r.BytesPerUser, r.Users, r.Messages)},
		{"keys", fmt.Sprintf("%d in all, at most %d per user, %d without a TTL %v", r.Keys, r.MaxKeysPerUser, r.KeysWithoutTTL, r.NoTTLSamples)},
		{"fill CPU", fmt.Sprintf("node %.2f s, Redis %.2f s = %.2f µs of Redis CPU per message", r.NodeCPU, r.RedisCPU, r.RedisUSPerMsg)},
		{"replay: stored / received", fmt.Sprintf("%d / %d, lost %d, duplicated %d", d.Expected, d.Received, d.Lost, d.Duplicated)},
	})
}
