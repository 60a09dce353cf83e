package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
)

// runConfig runs `gateway config check|print|reference`.
func runConfig(args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("config: no subcommand (check, print or reference)\n%s", usage)
	}
	switch args[0] {
	case "check":
		return runConfigCheck(args[1:], getenv, environ, stdout)
	case "print":
		return runConfigPrint(args[1:], getenv, environ, stdout)
	case "reference":
		return runConfigReference(args[1:], stdout)
	}
	return fmt.Errorf("config: unknown subcommand %q\n%s", args[0], usage)
}

// runConfigCheck prints "ok" for a valid configuration, else returns every
// problem in one error.
func runConfigCheck(args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	fs, path := newFlags("config check", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, unknown, err := configForStart(*path, getenv, environ)
	if err != nil {
		return err
	}
	for _, u := range unknown {
		fmt.Fprintln(stdout, "warning:", u)
	}
	_, err = fmt.Fprintln(stdout, "ok")
	return err
}

// runConfigPrint prints every key's effective value, secrets redacted, and
// where it came from. An invalid configuration is printed as read (before
// parsing), then its problems are returned.
func runConfigPrint(args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	fs, path := newFlags("config print", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := Load(*path, getenv)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, s := range settings {
		value := l.Texts[s.key]
		if l.Config != nil {
			value = formatValue(s.field(l.Config))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.key, displayValue(s, value), l.Sources[s.key])
	}
	if werr := tw.Flush(); werr != nil {
		return werr
	}
	for _, u := range unknownVariables(environ()) {
		fmt.Fprintln(stdout, "warning:", u)
	}
	return err
}

// redacted replaces secrets in `config print`.
const redacted = "<redacted>"

// displayValue is value as `config print` shows it: secrets redacted, the
// empty string quoted.
func displayValue(s setting, value string) string {
	switch s.tag.Get("secret") {
	case "true":
		if value != "" {
			return redacted
		}
	case "dsn":
		value = redactDSN(value)
	case "url":
		value = redactURL(value)
	}
	if value == "" {
		return `""`
	}
	return value
}

// redactDSN replaces the password of a go-sql-driver DSN
// (user:password@protocol(address)/dbname?params), which runs from the
// first colon to the last @ before the last slash.
func redactDSN(dsn string) string {
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return dsn
	}
	at := strings.LastIndexByte(dsn[:slash], '@')
	if at < 0 {
		return dsn
	}
	colon := strings.IndexByte(dsn[:at], ':')
	if colon < 0 || colon == at-1 {
		return dsn // no password
	}
	return dsn[:colon+1] + redacted + dsn[at:]
}

// redactURL replaces the password and the query values of a URL (a
// webhook's may carry credentials in either); what does not parse is
// redacted whole.
func redactURL(raw string) string {
	if raw == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), "REDACTED", redacted)
}

// runConfigReference writes config/reference.yaml to stdout or -o FILE.
func runConfigReference(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("config reference", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("o", "", "write to this file instead of stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, referenceYAML(), 0o644)
	}
	_, err := stdout.Write(referenceYAML())
	return err
}
