package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/delivery"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
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
	IdleUsers        int             `json:"idle_users"`
	BytesPerIdleUser float64         `json:"bytes_per_idle_user"`
	KeysPerIdleUser  float64         `json:"keys_per_idle_user"`
	Users            int             `json:"users"`
	Messages         int             `json:"messages_per_user"`
	BytesPerMessage  float64         `json:"bytes_per_stored_message"` // marginal: second half of the fill
	BytesPerUser     float64         `json:"bytes_per_active_user"`    // fixed part of a user with messages
	Keys             int             `json:"keys"`
	MaxKeysPerUser   int             `json:"max_keys_per_user"`
	KeysWithoutTTL   int             `json:"keys_without_ttl"`
	NoTTLSamples     []string        `json:"keys_without_ttl_samples"`
	MessageBytes     float64         `json:"stored_message_bytes"` // mean length of a stored message
	NodeCPU          float64         `json:"node_cpu_seconds"`
	RedisCPU         float64         `json:"redis_cpu_seconds"`
	RedisUSPerMsg    float64         `json:"redis_us_per_message"` // during the fill (50 users per push)
	Fill             int             `json:"fill_accepted"`
	Delivery         delivery.Report `json:"replay_delivery"` // the users connect at the end and get their stored messages
}

func (r *footprintReport) failures() []string {
	f := r.Delivery.Failures()
	if want := r.Users * r.Messages; r.Fill != want {
		f = append(f, fmt.Sprintf("%d of %d fill messages accepted", r.Fill, want))
	}
	return f
}

// idleUserOffset puts the idle users apart from the users with messages.
const idleUserOffset = 1_000_000

// footprintDetail is a message detail about the size of a reservation's.
var footprintDetail = json.RawMessage(`{"reservation_id":12345,"house_id":3001,"house_title":"精装修两室一厅",` +
	`"landlord_id":2001,"user_id":1001,"user_name":"张三","reserve_time":"2026-12-22 14:00:00","status":"confirmed",` +
	`"reason":"","created_at":1795638260,"updated_at":1795638260}`)

// run measures Redis's used_memory per idle user (one that connected once
// and got nothing), per stored message and per user with messages, counts
// keys; then the users with messages connect and must get every stored
// message once. used_memory is the whole server's: use -own-redis.
func (c *footprintConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "footprint: %d idle users, %d users × %d messages (50 users per push)\n", c.idle, c.users, c.messages)
	if !o.cfg.ownRedis {
		fmt.Fprintln(o.out, "  warning: without -own-redis, used_memory counts whatever else the shared Redis holds")
	}
	nodes, err := o.startNodes(ctx, 1)
	if err != nil {
		return nil, err
	}
	node, rep := nodes[0], &footprintReport{IdleUsers: c.idle, Users: c.users, Messages: c.messages}
	var mem [4]int64
	keys0, err := o.settledMemory(ctx, &mem[0])
	if err != nil {
		return nil, err
	}
	if err := o.connectOnce(ctx, nodes, c.idle); err != nil {
		return nil, err
	}
	keys1, err := o.settledMemory(ctx, &mem[1])
	if err != nil {
		return nil, err
	}
	rep.BytesPerIdleUser = measure.Round2(float64(mem[1]-mem[0]) / float64(c.idle))
	rep.KeysPerIdleUser = measure.Round2(float64(keys1-keys0) / float64(c.idle))
	cpu0, redis0 := measure.CPUSeconds(node.Pid()), o.redisCPU()
	half := c.messages / 2
	fill := o.fill(ctx, nodes, c.users, half)
	if _, err := o.settledMemory(ctx, &mem[2]); err != nil {
		return nil, err
	}
	fill = append(fill, o.fill(ctx, nodes, c.users, c.messages-half)...)
	rep.Fill = len(fill)
	rep.NodeCPU, rep.RedisCPU = measure.Round2(measure.CPUSeconds(node.Pid())-cpu0), measure.Round2(o.redisCPU()-redis0)
	rep.RedisUSPerMsg = cpuShare(rep.RedisCPU, int64(c.users*c.messages))
	if _, err := o.settledMemory(ctx, &mem[3]); err != nil {
		return nil, err
	}
	rep.BytesPerMessage = measure.Round2(float64(mem[3]-mem[2]) / float64(c.users*(c.messages-half)))
	rep.BytesPerUser = measure.Round2(float64(mem[2]-mem[1])/float64(c.users) - float64(half)*rep.BytesPerMessage)
	if err := rep.countKeys(ctx, o.rdb.Client); err != nil {
		return nil, err
	}
	// The users with messages, which never had a session, connect: each
	// must get its stored messages once.
	cps, _, err := o.startClients(ctx, nodes, c.users, 1, 0, clients.Config{})
	if err != nil {
		return nil, err
	}
	cps.WaitDelivered(ctx, o.out, int64(len(fill)), time.Minute, "replay")
	sums, err := cps.Finish(ctx)
	if err != nil {
		return nil, err
	}
	rep.Delivery = delivery.Merge(fill, sums)
	stopNodes(nodes)
	return rep, nil
}

// connectOnce connects users idleUserOffset+1 .. +users once, and waits
// until the node has no session left.
func (o *orch) connectOnce(ctx context.Context, nodes []*gatewayNode, users int) error {
	cps, _, err := o.startClients(ctx, nodes, users, 1, idleUserOffset, clients.Config{})
	if err != nil {
		return err
	}
	if _, err := cps.Summaries(); err != nil {
		return err
	}
	total := -1
	if !measure.WaitFor(ctx, 30*time.Second, func() bool {
		total = 0
		for _, n := range nodeConnections(o, nodes[0].HTTPURL) {
			total += n
		}
		return total == 0
	}) {
		return fmt.Errorf("node still reports %d connections", total)
	}
	return nil
}

// fill pushes n messages to each of users 1..users, 50 users per request,
// 8 requests at once, with a reservation-sized detail; it returns the
// accepted messages.
func (o *orch) fill(ctx context.Context, nodes []*gatewayNode, users, n int) []push.Result {
	body := func(ids []int64) []byte {
		b, _ := json.Marshal(map[string]any{"user_ids": ids, "title": "系统通知", "content": "您预约的房源有新的消息，请查看", "detail": footprintDetail})
		return b
	}
	p := push.New(push.Plan{Nodes: urlsOf(nodes), APIKey: o.apiKey, Users: users, Batch: min(users, 50), Concurrency: 8,
		Step: push.OneStep(1e9, users*n), Body: body})
	p.Run(ctx)
	return p.Results
}

// settledMemory reads used_memory into mem and returns the number of keys,
// once presence writes and cursor flushes had a second to settle.
func (o *orch) settledMemory(ctx context.Context, mem *int64) (keys int64, err error) {
	if !measure.Sleep(ctx, time.Second) {
		return 0, ctx.Err()
	}
	if _, err := fmt.Sscan(measure.LineValue(o.redisInfo("memory"), "used_memory:"), mem); err != nil {
		return 0, fmt.Errorf("no used_memory in INFO memory")
	}
	return o.rdb.Client.DBSize(ctx).Result()
}

// countKeys scans the run's DB: keys, keys per user (by the user's hash
// tag, "{ns:db:u:ID}"), keys without a TTL and the mean stored message.
func (r *footprintReport) countKeys(ctx context.Context, rdb *goredis.Client) error {
	perUser := map[string]int{}
	var msgBytes, msgs int64
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		r.Keys++
		if tag, _, ok := strings.Cut(k, "}"); ok && strings.Contains(tag, ":u:") {
			perUser[tag]++
			r.MaxKeysPerUser = max(r.MaxKeysPerUser, perUser[tag])
		}
		if ttl, err := rdb.TTL(ctx, k).Result(); err == nil && ttl < 0 {
			if r.KeysWithoutTTL++; len(r.NoTTLSamples) < 5 {
				r.NoTTLSamples = append(r.NoTTLSamples, k)
			}
		}
		if strings.HasSuffix(k, ":msgs") && msgs < 1000 {
			if s, err := rdb.LIndex(ctx, k, -1).Result(); err == nil {
				msgBytes, msgs = msgBytes+int64(len(s)), msgs+1
			}
		}
	}
	if msgs > 0 {
		r.MessageBytes = measure.Round2(float64(msgBytes) / float64(msgs))
	}
	return iter.Err()
}
