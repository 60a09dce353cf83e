package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
)

// runPush is "loadgen push": one fixed-rate schedule against running
// nodes, without clients.
func runPush(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stdout)
	nodes := fs.String("nodes", "http://127.0.0.1:8080", "comma-separated node base URLs; requests go round-robin")
	out := fs.String("out", "", "file for every accepted message as JSON (user, epoch, seq, id hash, step)")
	apiKey := fs.String("api-key", getenv("GATEWAY_API_KEY"), "server API key (default $GATEWAY_API_KEY)")
	users := fs.Int("users", 1000, "users the messages go to, round-robin (offset+1 .. offset+users)")
	offset := fs.Int("user-offset", 0, "users are offset+1 .. offset+users")
	rate := fs.Float64("rate", 1000, "messages per second")
	total := fs.Int("total", 10000, "messages to push")
	batch := fs.Int("batch", 1, "users per push request (the rate counts messages: requests/s = rate/batch)")
	concurrency := fs.Int("concurrency", 128, "push requests in flight at most")
	if err := fs.Parse(args); err != nil {
		return err
	}
	plan := pushPlan{nodes: splitList(*nodes), apiKey: *apiKey, users: *users, offset: *offset, batch: *batch, concurrency: *concurrency}
	if err := checkPushPlan(plan, *rate); err != nil {
		return err
	}
	if *total <= 0 {
		return errors.New("push: -total must be positive")
	}
	step := fixedStep(*rate, *total)
	plan.step = func(k int) (stepPlan, bool) { return step, k == 0 }
	p := newPusher(plan)
	p.run(ctx)
	rep := p.report()
	if *out != "" {
		b, err := json.Marshal(p.results)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
	}
	return writeLine(stdout, struct {
		Event      string  `json:"event"`
		TargetRate float64 `json:"target_rate"`
		pushReport
	}{"push", *rate, rep})
}

// checkPushPlan validates the settings of a pusher.
func checkPushPlan(p pushPlan, rate float64) error {
	switch {
	case len(p.nodes) == 0:
		return errors.New("no node to push to")
	case len(p.apiKey) < 16:
		return errors.New("the API key must be the node's api_key (16+ characters)")
	case p.users <= 0 || rate <= 0 || p.concurrency <= 0:
		return errors.New("users, rate and concurrency must be positive")
	case p.batch <= 0 || p.batch > 1000 || p.batch > p.users:
		return errors.New("batch must be between 1 and min(1000, users)")
	}
	return nil
}
