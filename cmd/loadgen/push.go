package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// pushConfig is the configuration of "loadgen push".
type pushConfig struct {
	nodes       []string // requests go round-robin over these
	apiKey      string
	users       int
	offset      int
	rate        float64 // messages per second
	total       int     // messages
	batch       int     // users per request
	concurrency int     // requests in flight at most
	timeout     time.Duration
}

func runPush(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stdout)
	nodes := fs.String("nodes", "http://127.0.0.1:8080", "comma-separated node base URLs; requests go round-robin")
	out := fs.String("out", "", "file for the report JSON with every returned (user, seq, id) (default: summary on stdout only)")
	var cfg pushConfig
	fs.StringVar(&cfg.apiKey, "api-key", getenv("GATEWAY_API_KEY"), "server API key (default $GATEWAY_API_KEY)")
	pushFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.nodes = splitList(*nodes)
	if err := cfg.check(); err != nil {
		return err
	}
	rep, err := pushLoad(ctx, cfg)
	if err != nil {
		return err
	}
	if *out != "" {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
	}
	rep.Results = nil
	return writeLine(stdout, rep)
}

// pushFlags registers the pacing flags shared by push and run.
func pushFlags(fs *flag.FlagSet, cfg *pushConfig) {
	fs.IntVar(&cfg.users, "users", 3000, "users the messages go to, round-robin (offset+1 .. offset+users)")
	fs.IntVar(&cfg.offset, "user-offset", 0, "users are offset+1 .. offset+users")
	fs.Float64Var(&cfg.rate, "rate", 2000, "messages per second")
	fs.IntVar(&cfg.total, "total", 30000, "messages to push")
	fs.IntVar(&cfg.batch, "batch", 1, "users per push request (rate counts messages, so requests/s = rate/batch)")
	fs.IntVar(&cfg.concurrency, "concurrency", 32, "push requests in flight at most")
	fs.DurationVar(&cfg.timeout, "push-timeout", 0, "bound of the whole push phase (default 3x the planned time + 30s)")
}

func (c *pushConfig) check() error {
	switch {
	case len(c.nodes) == 0:
		return errors.New("push: -nodes is empty")
	case len(c.apiKey) < 16:
		return errors.New("push: -api-key must be the node's api_key (16+ characters)")
	case c.users <= 0 || c.total <= 0 || c.rate <= 0 || c.concurrency <= 0:
		return errors.New("push: -users, -total, -rate and -concurrency must be positive")
	case c.batch <= 0 || c.batch > 1000 || c.batch > c.users:
		return errors.New("push: -batch must be between 1 and min(1000, -users)")
	}
	if c.timeout <= 0 {
		c.timeout = 3*time.Duration(float64(c.total)/c.rate*float64(time.Second)) + 30*time.Second
	}
	return nil
}

// pushResult is one message the gateway accepted.
type pushResult struct {
	User  int64  `json:"u"`
	Epoch string `json:"e"`
	Seq   int64  `json:"s"`
	ID    string `json:"i"`
}

// pushReport is what a push run did.
type pushReport struct {
	Event        string       `json:"event"`
	Planned      int          `json:"planned"`  // messages
	Accepted     int          `json:"accepted"` // messages the gateway returned a seq for
	Requests     int          `json:"requests"`
	FailedReqs   int          `json:"failed_requests"`
	ErrorSamples []string     `json:"error_samples,omitempty"`
	TargetRate   float64      `json:"target_rate"`
	Rate         float64      `json:"rate"` // accepted / (last answer - first send)
	ElapsedMS    int64        `json:"elapsed_ms"`
	MaxLagMS     float64      `json:"max_lag_ms"` // worst delay of a request behind its schedule
	ReqP50MS     float64      `json:"request_p50_ms"`
	ReqP99MS     float64      `json:"request_p99_ms"`
	ReqMaxMS     float64      `json:"request_max_ms"`
	Batch        int          `json:"batch"`
	Results      []pushResult `json:"results,omitempty"`
}

type pushJob struct {
	index int
	due   time.Time
}

// pushLoad sends cfg.total messages at cfg.rate: request i is due at
// start + i*batch/rate and carries the users of messages i*batch ..
// i*batch+batch-1 (message k goes to user offset+1+k%users). A request is
// sent when due or, if all workers are busy, as soon as one is free; the
// detail of each message holds the wall-clock time of the send in unix
// nanoseconds ({"sent_ns":N}) and the time it was due by the schedule
// ("due_ns", later than sent_ns only when the pusher fell behind). Failed requests are not retried (a retry
// would create new messages).
func pushLoad(ctx context.Context, cfg pushConfig) (*pushReport, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	requests := (cfg.total + cfg.batch - 1) / cfg.batch
	interval := time.Duration(float64(cfg.batch) / cfg.rate * float64(time.Second))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: cfg.concurrency * 2, MaxIdleConnsPerHost: cfg.concurrency, IdleConnTimeout: time.Minute}}
	defer client.CloseIdleConnections()

	rep := &pushReport{Event: "push", Planned: cfg.total, Requests: requests, TargetRate: cfg.rate, Batch: cfg.batch}
	var (
		mu       sync.Mutex
		results  = make([]pushResult, 0, cfg.total)
		reqTimes = make([]int64, 0, requests)
		lastDone atomic.Int64
		maxLag   time.Duration
	)
	jobs := make(chan pushJob)
	var wg sync.WaitGroup
	for range cfg.concurrency {
		wg.Go(func() {
			for j := range jobs {
				node := cfg.nodes[j.index%len(cfg.nodes)]
				lag := time.Since(j.due)
				t0 := time.Now()
				got, err := pushOnce(ctx, client, node, cfg, j.index, j.due, t0)
				t1 := time.Now()
				lastDone.Store(t1.UnixNano())
				mu.Lock()
				maxLag = max(maxLag, lag)
				reqTimes = append(reqTimes, t1.Sub(t0).Microseconds())
				if err != nil {
					rep.FailedReqs++
					if len(rep.ErrorSamples) < 5 {
						rep.ErrorSamples = append(rep.ErrorSamples, err.Error())
					}
				} else {
					results = append(results, got...)
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	timer := time.NewTimer(0)
	<-timer.C
send:
	for i := range requests {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break send
			}
		}
		select {
		case jobs <- pushJob{index: i, due: due}:
		case <-ctx.Done():
			break send
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil && len(results) < cfg.total {
		rep.ErrorSamples = append(rep.ErrorSamples, "push phase stopped: "+err.Error())
	}
	elapsed := time.Duration(lastDone.Load() - start.UnixNano())
	rep.Accepted = len(results)
	rep.Results = results
	rep.ElapsedMS = elapsed.Milliseconds()
	if elapsed > 0 {
		rep.Rate = float64(len(results)) / elapsed.Seconds()
	}
	rep.MaxLagMS = float64(maxLag.Microseconds()) / 1000
	q := quantiles(reqTimes, 0.5, 0.99, 1)
	rep.ReqP50MS, rep.ReqP99MS, rep.ReqMaxMS = q[0]/1000, q[1]/1000, q[2]/1000
	return rep, nil
}

// pushOnce sends request index and returns what the gateway answered.
func pushOnce(ctx context.Context, client *http.Client, node string, cfg pushConfig, index int, due, sent time.Time) ([]pushResult, error) {
	first := index * cfg.batch
	n := min(cfg.batch, cfg.total-first)
	ids := make([]int64, n)
	for k := range ids {
		ids[k] = int64(cfg.offset + 1 + (first+k)%cfg.users)
	}
	body, err := json.Marshal(map[string]any{
		"user_ids": ids, "title": "load " + strconv.Itoa(index), "content": "loadgen message",
		"detail": map[string]int64{"sent_ns": sent.UnixNano(), "due_ns": due.UnixNano(), "index": int64(index)},
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, node+"/api/push", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cfg.apiKey)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("push %s: %d %s", node, resp.StatusCode, bytes.TrimSpace(b))
	}
	var reply struct {
		Results []struct {
			UserID int64  `json:"user_id"`
			Epoch  string `json:"epoch"`
			Seq    int64  `json:"seq"`
			ID     string `json:"id"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &reply); err != nil {
		return nil, fmt.Errorf("push %s: bad reply: %w", node, err)
	}
	if len(reply.Results) != n {
		return nil, fmt.Errorf("push %s: %d results for %d users", node, len(reply.Results), n)
	}
	out := make([]pushResult, n)
	for k, r := range reply.Results {
		out[k] = pushResult{User: r.UserID, Epoch: r.Epoch, Seq: r.Seq, ID: r.ID}
	}
	return out, nil
}
