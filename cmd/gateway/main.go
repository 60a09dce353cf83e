// Command gateway runs a node of the house-viewing push gateway (gateway
// serve) and its operator commands: migrate, token, config check|print|
// reference, secrets init, version. `gateway help` describes each.
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
	_ "time/tzdata" // zone database inside the binary (containers lack one)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Environ, os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) { // -h printed the flags: success
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  gateway serve   [-config FILE]                        run a gateway node
  gateway migrate [-config FILE]                        apply database migrations and exit
  gateway token   -user N [-ttl DURATION] [-config FILE]  print an HS256 JWT for user N
  gateway config check [-connect] [-config FILE]        validate the configuration as serve does before it
                                                        connects: "ok", or every error (exit 1); -connect also
                                                        connects to MySQL and to Redis and reports what fails
  gateway config print [-config FILE]                   print every key's effective value (secrets redacted)
                                                        and its source: default, file, env or secret_file
  gateway config reference [-o FILE]                    write the reference configuration (config/reference.yaml)
  gateway secrets init -dir DIR                         create DIR/jwt_secret and DIR/api_key (random, mode 0600)
                                                        unless they exist; read them with GATEWAY_JWT_SECRET_FILE
                                                        and GATEWAY_API_KEY_FILE
  gateway version                                       print the version, commit and Go version
Every configuration key may be overridden by a GATEWAY_* environment variable (see docs/configuration.md and
config/reference.yaml); jwt.secret, api_key, redis.password, ui.password and webhook.secret also by
GATEWAY_<NAME>_FILE, naming a file that holds the value (Docker and Kubernetes secrets).`

// run executes one command. It returns when the command is done or, for
// serve, when ctx is cancelled and the node has shut down. getenv and
// environ are the process environment (os.Getenv, os.Environ).
func run(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, environ, stdout)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, environ, stdout)
	case "token":
		return runToken(args[1:], getenv, stdout)
	case "config":
		return runConfig(ctx, args[1:], getenv, environ, stdout)
	case "secrets":
		return runSecrets(args[1:], stdout)
	case "version":
		return runVersion(stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}
