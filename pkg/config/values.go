package config

import (
	"encoding"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

type parser func(st setting, text string) (reflect.Value, []string)

// parsers are the types read otherwise than by their kind.
var parsers = map[reflect.Type]parser{
	reflect.TypeFor[time.Duration](): func(st setting, text string) (reflect.Value, []string) {
		d, bad := duration(text, "30s or 1h", st.tag.Get("min") == "0")
		if bad != "" {
			return reflect.Value{}, []string{bad}
		}
		return reflect.ValueOf(d), nil
	},
	reflect.TypeFor[[]time.Duration](): func(_ setting, text string) (reflect.Value, []string) {
		ds, bad := items(text, func(s string) (time.Duration, string) { return duration(s, "24h or 90m", false) })
		slices.SortFunc(ds, func(a, b time.Duration) int { return int(b - a) })
		return reflect.ValueOf(ds), bad
	},
	reflect.TypeFor[[]string](): func(st setting, text string) (reflect.Value, []string) {
		ss, bad := items(text, func(s string) (string, string) { return s, st.check(s) })
		return reflect.ValueOf(ss), bad
	},
	reflect.TypeFor[[]netip.Prefix](): func(_ setting, text string) (reflect.Value, []string) {
		ps, bad := items(text, prefix)
		return reflect.ValueOf(ps), bad
	},
	reflect.TypeFor[map[string]int](): parseCounts,
	reflect.TypeFor[*time.Location](): func(_ setting, text string) (reflect.Value, []string) {
		loc, err := time.LoadLocation(text)
		if err != nil || text == "" {
			return reflect.Value{}, problem("%q is not an IANA time zone such as Asia/Shanghai", text)
		}
		return reflect.ValueOf(loc), nil
	},
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func parsable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Int, reflect.Int64, reflect.Bool:
		return true
	}
	return parsers[t] != nil || reflect.PointerTo(t).Implements(textUnmarshaler)
}

// parse reads text as a value of st, checking its tags' rules. It returns
// what is wrong instead when text is not valid.
func (st setting) parse(text string) (reflect.Value, []string) {
	text = strings.TrimSpace(text)
	if p := parsers[st.typ]; p != nil {
		return p(st, text)
	}
	if ptr := reflect.New(st.typ); ptr.Type().Implements(textUnmarshaler) {
		err := ptr.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text))
		return ptr.Elem(), messages(err)
	}
	switch st.typ.Kind() {
	case reflect.String:
		return st.parseString(text)
	case reflect.Int, reflect.Int64:
		lo, hasLo := st.intTag("min")
		hi, hasHi := st.intTag("max")
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || (hasLo && n < lo) || (hasHi && n > hi) {
			return reflect.Value{}, problem("%q is not an integer%s", text, st.rangeText())
		}
		return reflect.ValueOf(n), nil
	}
	b, err := strconv.ParseBool(text)
	if err != nil {
		return reflect.Value{}, problem("%q is not true or false", text)
	}
	return reflect.ValueOf(b), nil
}

func problem(format string, args ...any) []string { return []string{fmt.Sprintf(format, args...)} }

// messages are the texts of err, one per error it joins.
func messages(err error) []string {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range joined.Unwrap() {
			out = append(out, messages(e)...)
		}
		return out
	}
	if err != nil {
		return []string{err.Error()}
	}
	return nil
}

func (st setting) parseString(text string) (reflect.Value, []string) {
	if text == "" && st.tag.Get("required") == "true" {
		return reflect.Value{}, problem("must be set")
	}
	if oneof, ok := st.tag.Lookup("oneof"); ok {
		text = strings.ToLower(text)
		if allowed := strings.Fields(oneof); !slices.Contains(allowed, text) {
			return reflect.Value{}, problem("%q is not one of %s", text, strings.Join(allowed, ", "))
		}
	}
	if bad := st.check(text); bad != "" {
		return reflect.Value{}, []string{bad}
	}
	return reflect.ValueOf(text), nil
}

// check applies the check tag to a non-empty text.
func (st setting) check(text string) string {
	if text == "" {
		return ""
	}
	switch st.tag.Get("check") {
	case "hostport":
		_, port, err := net.SplitHostPort(text)
		if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
			return fmt.Sprintf("%q is not host:port with a port from 0 to 65535", text)
		}
	case "http_url":
		if u, err := url.Parse(text); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Sprintf("%q is not an http(s) URL such as %s", text, st.tag.Get("example"))
		}
	}
	return ""
}

// rangeText describes the min and max tags: " between 1 and 10".
func (st setting) rangeText() string {
	lo, hasLo := st.tag.Lookup("min")
	hi, hasHi := st.tag.Lookup("max")
	switch {
	case hasLo && hasHi:
		return fmt.Sprintf(" between %s and %s", lo, hi)
	case hasLo:
		return " of at least " + lo
	case hasHi:
		return " of at most " + hi
	}
	return ""
}

func (st setting) intTag(name string) (int64, bool) {
	v, ok := st.tag.Lookup(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("config: %s has %s:%q, not an integer", st.key, name, v))
	}
	return n, true
}

// items parses each item of a comma-separated list, dropping empty items;
// item returns what is wrong with a bad one.
func items[E any](text string, item func(string) (E, string)) ([]E, []string) {
	var out []E
	var problems []string
	for part := range strings.SplitSeq(text, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if v, bad := item(part); bad != "" {
			problems = append(problems, bad)
		} else {
			out = append(out, v)
		}
	}
	return out, problems
}

// duration reads a positive duration (or 0, when zero is allowed).
func duration(text, example string, zero bool) (time.Duration, string) {
	d, err := ParseDuration(text)
	if err != nil || d < 0 || d == 0 && !zero {
		return 0, fmt.Sprintf("%q is not a positive duration such as %s (Go's units, and d for days: 7d, 1d12h)", text, example)
	}
	return d, ""
}

// ParseDuration is time.ParseDuration that also takes whole days first:
// "7d", "1d12h" (a day is 24 hours).
func ParseDuration(text string) (time.Duration, error) {
	days, rest, ok := strings.Cut(text, "d")
	if !ok || days == "" || strings.Trim(days, "0123456789") != "" {
		return time.ParseDuration(text)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n > 100000 {
		return 0, fmt.Errorf("time: invalid duration %q", text)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	more, err := time.ParseDuration(rest)
	if err != nil || more < 0 {
		return 0, fmt.Errorf("time: invalid duration %q", text)
	}
	return d + more, nil
}

// prefix reads a CIDR, or an address as the prefix of its full length.
func prefix(text string) (netip.Prefix, string) {
	p, err := netip.ParsePrefix(text)
	if err != nil {
		addr, aerr := netip.ParseAddr(text)
		if aerr != nil {
			return p, fmt.Sprintf("%q is not an IP address or CIDR such as 10.0.0.0/8", text)
		}
		p = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
	}
	return p.Masked(), ""
}

// parseCounts reads "name:n,..." (n >= 1, at least one name).
func parseCounts(_ setting, text string) (reflect.Value, []string) {
	type count struct {
		name string
		n    int
	}
	counts, problems := items(text, func(part string) (count, string) {
		name, n, ok := strings.Cut(part, ":")
		c := count{name: strings.TrimSpace(name)}
		var err error
		if c.n, err = strconv.Atoi(strings.TrimSpace(n)); !ok || err != nil || c.n < 1 || c.name == "" {
			return c, fmt.Sprintf("%q is not queue:priority with priority >= 1", part)
		}
		return c, ""
	})
	out := map[string]int{}
	for _, c := range counts {
		out[c.name] = c.n
	}
	if len(out) == 0 && len(problems) == 0 {
		problems = problem("needs at least one queue:priority")
	}
	return reflect.ValueOf(out), problems
}

// format writes v, a setting's field, as the text parse reads: lists and
// maps comma-separated, durations without zero trailing units (168h, not
// 168h0m0s).
func format(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		s := x.String()
		if strings.HasSuffix(s, "m0s") {
			s = s[:len(s)-2]
		}
		if strings.HasSuffix(s, "h0m") {
			s = s[:len(s)-2]
		}
		return s
	case fmt.Stringer:
		return x.String()
	}
	var parts []string
	switch v.Kind() {
	case reflect.Slice:
		for i := range v.Len() {
			parts = append(parts, format(v.Index(i)))
		}
	case reflect.Map:
		m := v.Interface().(map[string]int)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
		}
	default:
		return fmt.Sprint(v.Interface())
	}
	return strings.Join(parts, ",")
}
