// Command loadgen measures the gateway: it starts real `gateway serve`
// nodes on loopback (jwt mode by default), WebSocket client processes that
// record every message, and a paced pusher (POST /api/push), runs one
// scenario and reports it as a table and one JSON line.
//
//	loadgen ramp      [flags]  raise the push rate step by step until a step is bad; the last good rate
//	loadgen fixed     [flags]  a fixed push rate for a while: latency percentiles, loss, CPU per message
//	loadgen idle      [flags]  many idle connections: CPU per connection, RSS per connection, idle CPU
//	loadgen footprint [flags]  what Redis holds per idle user, per user with messages, per message
//	loadgen soak      [flags]  a long run at a fixed rate with client churn: RSS, goroutines, open files over time
//	loadgen chart     [flags]  SVG of a ramp's latency percentiles against the offered rate
//	loadgen clients            (a role) hold one WebSocket per user, record what arrives
//
// docs/benchmarks.md describes the method.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  loadgen ramp      [flags]   raise the push rate by -factor every -step until a step is bad; report the last good rate
  loadgen fixed     [flags]   push at -rate for -duration: latency from the scheduled send, loss, CPU per message
  loadgen idle      [flags]   -conns idle connections: CPU per new connection, RSS per connection, idle CPU
  loadgen footprint [flags]   Redis memory and keys per idle user, per user with messages, per stored message
  loadgen soak      [flags]   push at -rate for -duration (30m) while clients drop and resume: RSS, goroutines, open files
  loadgen chart     [flags]   -in runs.jsonl -out ramp.svg: latency percentiles against the offered rate (or a soak's resources)
  loadgen clients             role: one WebSocket per user (settings in $LOADGEN_CLIENTS), record every message, write a summary on exit
Run "loadgen <command> -h" for the flags of a command.`

// run executes one command; it returns when the command is done or ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	if _, ok := scenarios[args[0]]; ok {
		return runScenarioCommand(ctx, args[0], args[1:], getenv, stdout, stderr)
	}
	switch args[0] {
	case "chart":
		return runChart(args[1:], stdout)
	case "clients":
		return runClients(ctx, getenv, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}
