package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/pkg/testenv"
)

// footprintConfig is phase R: what a deployment keeps in Redis.
type footprintConfig struct {
	users, messages, idle int
}

// phaseRReport is Redis's memory and keys after phase R's steps.
type phaseRReport struct {
	IdleUsers        int      `json:"idle_users"`
	BytesPerIdleUser float64  `json:"bytes_per_idle_user"`
	KeysPerIdleUser  float64  `json:"keys_per_idle_user"`
	Users            int      `json:"users"`
	Messages         int      `json:"messages_per_user"`
	BytesPerMessage  float64  `json:"bytes_per_stored_message"` // marginal: second half of the fill
	BytesPerUser     float64  `json:"bytes_per_active_user"`    // fixed part of a user with messages
	MessageBytes     float64  `json:"stored_message_bytes"`     // mean length of a stored message
	Keys             int      `json:"keys"`
	MaxKeysPerUser   int      `json:"max_keys_per_user"`
	KeysWithoutTTL   int      `json:"keys_without_ttl"`
	NoTTLSamples     []string `json:"keys_without_ttl_samples"`
	NodeCPU          float64  `json:"node_cpu_seconds"`
	RedisCPU         float64  `json:"redis_cpu_seconds"`
	RedisUSPerMsg    float64  `json:"redis_us_per_message"` // during the fill (50 users per push)
}

// idleUserOffset puts phase R's idle users apart from its users with
// messages.
const idleUserOffset = 1_000_000

// phaseR measures Redis's used_memory per idle user (one that connected
// once and got nothing), per stored message and per user with messages,
// counts keys per user and keys without a TTL. It needs a Redis of its own
// (-own-redis): used_memory is the whole server's.
func (o *orch) phaseR(ctx context.Context) (*phaseRReport, error) {
	c := o.cfg.footprint
	fmt.Fprintf(o.out, "phase R: Redis footprint: %d idle users, %d users × %d messages (50 users per push)\n", c.idle, c.users, c.messages)
	if !o.cfg.ownRedis {
		fmt.Fprintln(o.out, "  warning: without -own-redis, used_memory counts whatever else the shared Redis holds")
	}
	nodes, err := o.startNodes(ctx, "r", 1)
	if err != nil {
		return nil, err
	}
	node := nodes[0]
	rep := &phaseRReport{IdleUsers: c.idle, Users: c.users, Messages: c.messages}
	mem0, err := o.rdb.usedMemory(ctx)
	if err != nil {
		return nil, err
	}
	keys0, err := o.rdb.Client.DBSize(ctx).Result()
	if err != nil {
		return nil, err
	}

	cps, _, err := o.startClientProcs(ctx, "r", nodes, c.idle, 1, idleUserOffset)
	if err != nil {
		return nil, err
	}
	for _, cp := range cps {
		if _, err := cp.summary(30 * time.Second); err != nil {
			return nil, err
		}
	}
	if err := waitNoConnections(ctx, node.httpURL); err != nil {
		return nil, err
	}
	mem1, err := o.rdb.usedMemory(ctx)
	if err != nil {
		return nil, err
	}
	rep.BytesPerIdleUser = round2(float64(mem1-mem0) / float64(c.idle))
	keys1, err := o.rdb.Client.DBSize(ctx).Result()
	if err != nil {
		return nil, err
	}
	rep.KeysPerIdleUser = round2(float64(keys1-keys0) / float64(c.idle))

	cpu0, redis0 := cpuSeconds(node.pid()), o.rdb.cpuSeconds()
	half := c.messages / 2
	if err := fillUsers(ctx, node.httpURL, o.apiKey, c.users, half); err != nil {
		return nil, err
	}
	mem2, err := o.rdb.usedMemory(ctx)
	if err != nil {
		return nil, err
	}
	if err := fillUsers(ctx, node.httpURL, o.apiKey, c.users, c.messages-half); err != nil {
		return nil, err
	}
	rep.NodeCPU, rep.RedisCPU = round2(cpuSeconds(node.pid())-cpu0), round2(o.rdb.cpuSeconds()-redis0)
	rep.RedisUSPerMsg = round2(rep.RedisCPU * 1e6 / float64(c.users*c.messages))
	mem3, err := o.rdb.usedMemory(ctx)
	if err != nil {
		return nil, err
	}
	rep.BytesPerMessage = round2(float64(mem3-mem2) / float64(c.users*(c.messages-half)))
	rep.BytesPerUser = round2(float64(mem2-mem1)/float64(c.users) - float64(half)*rep.BytesPerMessage)
	if err := o.rdb.countKeys(ctx, rep); err != nil {
		return nil, err
	}
	_ = node.stop(20 * time.Second)
	fmt.Fprintf(o.out, "  used_memory per idle user: %.0f B (%.2f keys); per stored message: %.0f B (stored message %.0f B); fixed per user with messages: %.0f B\n",
		rep.BytesPerIdleUser, rep.KeysPerIdleUser, rep.BytesPerMessage, rep.MessageBytes, rep.BytesPerUser)
	fmt.Fprintf(o.out, "  keys: %d in all, at most %d per user, %d without a TTL %v\n",
		rep.Keys, rep.MaxKeysPerUser, rep.KeysWithoutTTL, rep.NoTTLSamples)
	fmt.Fprintf(o.out, "  fill: node %.2f CPU s, redis-server %.2f CPU s = %.2f µs of Redis CPU per message\n",
		rep.NodeCPU, rep.RedisCPU, rep.RedisUSPerMsg)
	return rep, nil
}

// footprintDetail is a message detail about the size of a reservation's.
var footprintDetail = json.RawMessage(`{"reservation_id":12345,"house_id":3001,"house_title":"精装修两室一厅",` +
	`"landlord_id":2001,"user_id":1001,"user_name":"张三","reserve_time":"2026-12-22 14:00:00","status":"confirmed",` +
	`"reason":"","created_at":1795638260,"updated_at":1795638260}`)

// fillUsers pushes n messages to each of users 1..users, 50 users per
// request, 8 requests at once.
func fillUsers(ctx context.Context, base, apiKey string, users, n int) error {
	type job struct{ ids []int64 }
	jobs := make(chan job)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range 8 {
		wg.Go(func() {
			for j := range jobs {
				body, _ := json.Marshal(map[string]any{"user_ids": j.ids, "title": "系统通知",
					"content": "您预约的房源有新的消息，请查看", "detail": footprintDetail})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/push", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+apiKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("push: status %d", resp.StatusCode)
					}
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for range n {
		for u := 1; u <= users; u += 50 {
			ids := make([]int64, 0, 50)
			for v := u; v < u+50 && v <= users; v++ {
				ids = append(ids, int64(v))
			}
			select {
			case jobs <- job{ids}:
			case err := <-errs:
				close(jobs)
				wg.Wait()
				return err
			}
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// waitNoConnections waits until the node reports no WebSocket session.
func waitNoConnections(ctx context.Context, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conns := nodeConnections(fetchStats(base))
		total := 0
		for _, n := range conns {
			total += n
		}
		if total == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node still reports %d connections", total)
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// usedMemory reads used_memory (INFO memory) after the clients let go.
func (r *redisDB) usedMemory(ctx context.Context) (int64, error) {
	if !sleepCtx(ctx, time.Second) { // presence writes and cursor flushes settle
		return 0, ctx.Err()
	}
	info, err := r.Client.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no used_memory in INFO memory")
}

// countKeys scans the run's DB: keys, keys per user (by the user's hash
// tag, "{ns:db:u:ID}"), keys without a TTL and the mean stored message.
func (r *redisDB) countKeys(ctx context.Context, rep *phaseRReport) error {
	perUser := map[string]int{}
	var msgBytes, msgs int64
	iter := r.Client.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		rep.Keys++
		if tag, _, ok := strings.Cut(k, "}"); ok && strings.Contains(tag, ":u:") {
			perUser[tag]++
		}
		if ttl, err := r.Client.TTL(ctx, k).Result(); err == nil && ttl < 0 {
			if rep.KeysWithoutTTL++; len(rep.NoTTLSamples) < 5 {
				rep.NoTTLSamples = append(rep.NoTTLSamples, k)
			}
		}
		if strings.HasSuffix(k, ":msgs") && msgs < 1000 {
			if s, err := r.Client.LIndex(ctx, k, -1).Result(); err == nil {
				msgBytes += int64(len(s))
				msgs++
			}
		}
	}
	for _, n := range perUser {
		rep.MaxKeysPerUser = max(rep.MaxKeysPerUser, n)
	}
	if msgs > 0 {
		rep.MessageBytes = round2(float64(msgBytes) / float64(msgs))
	}
	return iter.Err()
}

// startOwnRedis starts a private redis-server (no persistence) on a free
// port for the run and returns its address.
func (o *orch) startOwnRedis(ctx context.Context) (string, error) {
	port, err := testenv.FreePort()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(o.cfg.workdir, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("-own-redis: %w", err)
	}
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"}
	p, err := startProc("redis-server", path, args, os.Environ(), filepath.Join(dir, "redis.log"), nil)
	if err != nil {
		return "", err
	}
	o.ownRedis = p
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for c.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("own redis-server on %s did not answer:\n%s", addr, p.logTail(2000))
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return "", ctx.Err()
		}
	}
	return addr, nil
}
