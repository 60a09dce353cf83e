package config

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
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

const referenceWidth = 78

// Reference is the reference YAML file: header, then every setting with
// its doc, its variables and rules, and its default, grouped by section.
func (s *Schema[T]) Reference(header string) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	defaults := s.DefaultTexts()
	section := ""
	for i, st := range s.settings {
		indent := ""
		if st.section() != "" {
			indent = "  "
		}
		if i == 0 || st.section() != section || st.section() == "" {
			b.WriteString("\n")
			if st.section() != "" && st.section() != section {
				fmt.Fprintf(&b, "%s:\n", st.section())
			}
			section = st.section()
		}
		for _, line := range wrap(st.tag.Get("doc"), referenceWidth-len(indent)-2) {
			fmt.Fprintf(&b, "%s# %s\n", indent, line)
		}
		fmt.Fprintf(&b, "%s# %s\n", indent, s.rules(st))
		fmt.Fprintf(&b, "%s%s: %s\n", indent, st.name(), yamlValue(st, defaults[st.key]))
	}
	return b.Bytes()
}

// rules is the reference's line about a setting's variables and what
// values it takes.
func (s *Schema[T]) rules(st setting) string {
	parts := []string{s.EnvName(st.key)}
	if st.fileVariable() {
		parts[0] += " or " + s.fileEnv(st.key)
	}
	if r := st.rangeText(); r != "" && st.typ != reflect.TypeFor[time.Duration]() {
		parts = append(parts, "an integer"+r)
	}
	if oneof, ok := st.tag.Lookup("oneof"); ok {
		parts = append(parts, "one of "+strings.Join(strings.Fields(oneof), ", "))
	}
	if st.tag.Get("required") == "true" {
		parts = append(parts, "required")
	}
	return strings.Join(parts, "; ")
}

// yamlValue writes a setting's text as a YAML value: numbers and booleans
// bare, anything else quoted.
func yamlValue(st setting, text string) string {
	if st.typ != reflect.TypeFor[time.Duration]() {
		switch st.typ.Kind() {
		case reflect.Int, reflect.Int64, reflect.Bool:
			return text
		}
	}
	return strconv.Quote(text)
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// Lint checks the declarations: each setting documented, ranges on
// integers only and on all of them, oneof on strings only, and a default
// that the setting's own rules accept.
func (s *Schema[T]) Lint() []string {
	var out []string
	defaults := s.DefaultTexts()
	for _, st := range s.settings {
		if st.tag.Get("doc") == "" {
			out = append(out, st.key+" has no doc tag")
		}
		_, hasMin := st.tag.Lookup("min")
		_, hasMax := st.tag.Lookup("max")
		isInt := st.typ.Kind() == reflect.Int || st.typ.Kind() == reflect.Int64
		if isInt && st.typ != reflect.TypeFor[time.Duration]() && (!hasMin || !hasMax) || !isInt && (hasMin || hasMax) {
			out = append(out, st.key+": integers need min and max tags, other types none")
		}
		if _, ok := st.tag.Lookup("oneof"); ok && st.typ.Kind() != reflect.String {
			out = append(out, fmt.Sprintf("%s: oneof on a %s", st.key, st.typ))
		}
		if v, bad := st.parse(defaults[st.key]); len(bad) > 0 {
			out = append(out, fmt.Sprintf("%s: default %q is invalid: %v", st.key, defaults[st.key], bad))
		} else if format(v) != defaults[st.key] {
			out = append(out, fmt.Sprintf("%s: default %q reads back as %q", st.key, defaults[st.key], format(v)))
		}
	}
	return out
}

// CheckTable checks a Markdown table of the settings against the
// declarations: rows "| `VARIABLE` | `key` | default | ...", every key
// once, each with its variable, and each default written as a value (in
// backquotes) equal to the real one; a default in words is not checked.
func (s *Schema[T]) CheckTable(markdown string) []string {
	row := regexp.MustCompile("(?m)^\\| `(" + regexp.QuoteMeta(s.prefix) + "[A-Z0-9_]+)` \\| `([a-z0-9_.]+)` \\|([^|]*)\\|")
	defaults := s.DefaultTexts()
	var out []string
	rows := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(markdown, -1) {
		variable, key, def := m[1], m[2], strings.TrimSpace(m[3])
		rows[key]++
		st, ok := s.lookup(key)
		if !ok {
			out = append(out, fmt.Sprintf("documents %s, which is not a key", key))
			continue
		}
		if variable != s.EnvName(key) {
			out = append(out, fmt.Sprintf("%s's variable is %s, not %s", key, s.EnvName(key), variable))
		}
		if !strings.HasPrefix(def, "`") {
			continue
		}
		if v, bad := st.parse(strings.Trim(def, "`")); len(bad) > 0 || format(v) != defaults[key] {
			out = append(out, fmt.Sprintf("%s's default is %s, not %s", key, defaults[key], def))
		}
	}
	for _, key := range s.Keys() {
		if rows[key] != 1 {
			out = append(out, fmt.Sprintf("%s is in %d rows, not 1", key, rows[key]))
		}
	}
	return out
}
