// Command loadgen measures a gateway cluster: WebSocket clients that record
// every message they get, a paced server-push generator, and an orchestrator
// that runs both against real gateway nodes on loopback.
//
//	loadgen run     [flags]   start nodes, clients and the pusher; print the report
//	loadgen clients [flags]   hold one WebSocket per user and record what arrives
//	loadgen push    [flags]   push messages at a fixed rate through POST /api/push
//
// See docs/benchmarks.md for the scenarios and the measured numbers.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  loadgen run     [flags]   start gateway nodes, client processes and the pusher; print the report
  loadgen clients [flags]   one WebSocket per user, record every message, write a summary on exit
  loadgen push    [flags]   push messages at a fixed rate through POST /api/push
Run "loadgen <command> -h" for the flags of a command.`

// run executes one command; it returns when the command is done or ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	switch args[0] {
	case "run":
		return runOrchestrator(ctx, args[1:], getenv, stdout)
	case "clients":
		return runClients(ctx, args[1:], stdout)
	case "push":
		return runPush(ctx, args[1:], getenv, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}
