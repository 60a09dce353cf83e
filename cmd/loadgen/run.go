package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// runRun is "loadgen run": "-scenario NAME [flags]" runs that scenario;
// without -scenario it runs the phases of the former tool, folded into the
// scenarios with their old defaults: a = fixed (3 nodes, 3,000 users,
// 30,000 messages at 2,000/s), b = idle (3 nodes, 15,000 connections),
// r = footprint.
func runRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if name, rest, found := scenarioArg(args); found {
		if _, ok := scenarios[name]; !ok {
			return fmt.Errorf("run: unknown -scenario %q (ramp, fixed, idle, footprint)", name)
		}
		return runScenarioCommand(ctx, name, rest, getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.String("scenario", "", "run this scenario (ramp, fixed, idle, footprint) with its flags instead of -phases")
	var common commonConfig
	common.register(fs, getenv)
	phases := fs.String("phases", "a,b", "former phases: a (fixed), b (idle), r (footprint)")
	a := fixedConfig{batch: 1}
	fs.IntVar(&a.nodes, "a-nodes", 3, "phase a: gateway nodes")
	fs.IntVar(&a.users, "a-users", 3000, "phase a: connected users")
	fs.IntVar(&a.procs, "a-procs", 2, "phase a: client processes")
	fs.Float64Var(&a.rate, "rate", 2000, "phase a: messages per second")
	fs.IntVar(&a.total, "total", 30000, "phase a: messages")
	fs.IntVar(&a.batch, "batch", 1, "phase a: users per push request")
	fs.IntVar(&a.concurrency, "concurrency", 32, "phase a: push requests in flight at most")
	fs.DurationVar(&a.deliverTimeout, "deliver-timeout", time.Minute, "phase a: wait this long after the last push for delivery")
	var b idleConfig
	fs.IntVar(&b.nodes, "b-nodes", 3, "phase b: gateway nodes")
	fs.IntVar(&b.conns, "b-conns", 15000, "phase b: idle connections")
	fs.IntVar(&b.procs, "b-procs", 4, "phase b: client processes")
	fs.DurationVar(&b.settle, "b-settle", 10*time.Second, "phase b: wait this long after the last connection before reading RSS")
	fs.DurationVar(&b.window, "b-window", 0, "phase b: idle CPU window (0: skip)")
	var r footprintConfig
	fs.IntVar(&r.users, "r-users", 1000, "phase r: users that get messages")
	fs.IntVar(&r.messages, "r-messages", 50, "phase r: messages per user")
	fs.IntVar(&r.idle, "r-idle", 2000, "phase r: idle users")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := common.check(); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	var runs []struct {
		name string
		sc   scenarioConfig
	}
	for _, ph := range splitList(*phases) {
		var sc scenarioConfig
		var name string
		switch ph {
		case "a":
			name, sc = "fixed", &a
		case "b":
			name, sc = "idle", &b
		case "r":
			name, sc = "footprint", &r
		default:
			return fmt.Errorf("run: unknown phase %q (a, b, r)", ph)
		}
		if err := sc.check(); err != nil {
			return fmt.Errorf("run: phase %s: %w", ph, err)
		}
		runs = append(runs, struct {
			name string
			sc   scenarioConfig
		}{name, sc})
	}
	settings := flagSettings(fs)
	var errs []error
	for _, r := range runs {
		if err := runScenario(ctx, r.name, common, r.sc, settings, stdout, stderr); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// scenarioArg finds -scenario NAME (or -scenario=NAME, with one or two
// dashes) in args and returns the name and the other arguments.
func scenarioArg(args []string) (name string, rest []string, found bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		flagName, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || flagName != "scenario" {
			continue
		}
		rest = append(append(rest, args[:i]...), args[i+1:]...)
		if !hasValue {
			if i+1 >= len(args) {
				return "", args, true
			}
			value = args[i+1]
			rest = append(append([]string{}, args[:i]...), args[i+2:]...)
		}
		return value, rest, true
	}
	return "", args, false
}
