package config

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
)

// Redacted replaces secrets in Print.
const Redacted = "<redacted>"

// Print loads the configuration as LoadAll does and writes a table of
// every key's effective value, secrets redacted, and where it came from,
// then a warning line for each variable no setting reads. It returns the
// configuration's problems: an invalid one is shown as read, before
// parsing.
func (s *Schema[T]) Print(w io.Writer, path string, getenv func(string) string, environ []string) error {
	l, err := s.Load(path, getenv)
	if perr := s.printTable(w, l); perr != nil {
		return perr
	}
	for _, u := range s.Unknown(environ) {
		fmt.Fprintln(w, "warning:", u)
	}
	return err
}

func (s *Schema[T]) printTable(w io.Writer, l *Loaded[T]) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, st := range s.settings {
		value := l.Texts[st.key]
		if l.Config != nil {
			value = format(st.field(l.Config))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st.key, display(st, value), l.Sources[st.key])
	}
	return tw.Flush()
}

// display is value as Print shows it: secrets redacted, the empty string
// quoted.
func display(st setting, value string) string {
	switch st.tag.Get("secret") {
	case "true":
		if value != "" {
			return Redacted
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
	return dsn[:colon+1] + Redacted + dsn[at:]
}

// redactURL replaces the password and the query values of a URL (either
// may carry credentials); what does not parse is redacted whole.
func redactURL(raw string) string {
	if raw == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Redacted
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
	return strings.ReplaceAll(u.String(), "REDACTED", Redacted)
}
