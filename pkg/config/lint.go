package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"
)

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
