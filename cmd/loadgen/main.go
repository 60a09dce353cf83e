// Command loadgen measures the gateway: it starts real `gateway serve`
// nodes on loopback (jwt mode by default), WebSocket client processes that
// record every message, and a paced pusher (POST /api/push), runs one
// scenario and reports it as a table and one JSON line. "loadgen help"
// lists the commands; docs/benchmarks.md describes the method.
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

	"github.com/houseview/gateway/cmd/loadgen/internal/chart"
	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  loadgen ramp      [flags]   raise the push rate by -factor every -step until a step is bad; report the last good rate
  loadgen fixed     [flags]   push at -rate for -duration: latency from the scheduled send, loss, CPU per message
  loadgen idle      [flags]   -conns idle connections: CPU per new connection, RSS per connection, idle CPU
  loadgen footprint [flags]   Redis memory and keys per idle user, per user with messages, per stored message
  loadgen reserve   [flags]   POST /house/reserve against raw single-row INSERTs on the same MariaDB
  loadgen soak      [flags]   push at -rate for -duration (30m) while clients drop and resume: RSS, goroutines, open files
  loadgen chart     [flags]   -in runs.jsonl -out ramp.svg: latency percentiles against the offered rate (or a soak's resources)
  loadgen clients             role: one WebSocket per user ($LOADGEN_CLIENTS), record every message, write a summary on exit
Run "loadgen <command> -h" for the flags of a command.`

// run executes one command; it returns when the command is done or ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "help"
	if len(args) > 0 {
		cmd = args[0]
	}
	if scenario.Exists(cmd) {
		return scenario.Run(ctx, cmd, args[1:], getenv, stdout, stderr)
	}
	switch cmd {
	case "chart":
		return chart.Run(args[1:], stdout)
	case "clients":
		return clients.Run(ctx, getenv, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}
