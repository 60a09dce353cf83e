// Command gateway runs a node of the house-viewing push gateway and its
// operator commands:
//
//	gateway serve   -config FILE           run a node (HTTP :8080, gRPC :9000)
//	gateway migrate -config FILE           apply database migrations and exit
//	gateway token   -user N [-ttl D] [-config FILE]  print a JWT for user N
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // zone database inside the binary (containers lack one)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  gateway serve   [-config FILE]                      run a gateway node
  gateway migrate [-config FILE]                      apply database migrations and exit
  gateway token   -user N [-ttl DURATION] [-config FILE]  print an HS256 JWT for user N
Every configuration key may be overridden by a GATEWAY_* environment variable (see README).`

// run executes one command. It returns when the command is done or, for
// serve, when ctx is cancelled and the node has shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout)
	case "token":
		return runToken(args[1:], getenv, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}
