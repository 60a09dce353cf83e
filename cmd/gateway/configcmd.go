package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/cmd/gateway/settings"
	goredis "github.com/redis/go-redis/v9"
)

//go:generate go run . config reference -o ../../config/reference.yaml

// runConfig runs `gateway config check|print|reference`.
func runConfig(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("config: no subcommand (check, print or reference)\n%s", usage)
	}
	switch args[0] {
	case "check":
		return runConfigCheck(ctx, args[1:], getenv, environ, stdout)
	case "print":
		fs, path := newFlags("config print", stdout)
		if err := parseFlags(fs, args[1:], stdout); err != nil {
			return err
		}
		return settings.Schema.Print(stdout, *path, getenv, environ())
	case "reference":
		fs := flag.NewFlagSet("config reference", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		out := fs.String("o", "", "write to this file instead of stdout")
		if err := parseFlags(fs, args[1:], stdout); err != nil {
			return err
		}
		if *out != "" {
			return os.WriteFile(*out, settings.Reference(), 0o644)
		}
		_, err := stdout.Write(settings.Reference())
		return err
	}
	return fmt.Errorf("config: unknown subcommand %q\n%s", args[0], usage)
}

// runConfigCheck prints "ok" for a configuration serve accepts, else
// returns every problem in one error. With -connect it also connects to
// MySQL and to Redis and returns what fails.
func runConfigCheck(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	fs, path := newFlags("config check", stdout)
	connect := fs.Bool("connect", false, "also connect to MySQL and to Redis (in its configured mode)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	cfg, unknown, err := settings.Schema.LoadAll(*path, getenv, environ())
	if err != nil {
		return err
	}
	for _, u := range unknown {
		fmt.Fprintln(stdout, "warning:", u)
	}
	for _, ignored := range cfg.Ignored() {
		fmt.Fprintln(stdout, "warning: setting ignored:", ignored)
	}
	if *connect {
		if err := checkConnections(ctx, cfg); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(stdout, "ok")
	return err
}

// checkConnections connects to MySQL and to Redis as serve would.
func checkConnections(ctx context.Context, cfg *settings.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// What fails is returned below; go-redis's own lines would repeat it.
	goredis.SetLogger(redisLogger{slog.New(slog.DiscardHandler)})
	var errs []error
	if err := mysql.PingServer(ctx, cfg.MySQL.DSN); err != nil {
		errs = append(errs, fmt.Errorf("connect: %w", err))
	}
	if rdb, err := connectRedis(ctx, cfg.Redis); err != nil {
		errs = append(errs, fmt.Errorf("connect: %w", err))
	} else {
		rdb.Close()
	}
	return errors.Join(errs...)
}
