package main

import (
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
)

// The setting types that are not plain strings, integers or booleans.
var (
	durationType  = reflect.TypeFor[time.Duration]()
	durationsType = reflect.TypeFor[[]time.Duration]()
	stringsType   = reflect.TypeFor[[]string]()
	queuesType    = reflect.TypeFor[map[string]int]()
	locationType  = reflect.TypeFor[*time.Location]()
	authModeType  = reflect.TypeFor[app.AuthMode]()
	prefixesType  = reflect.TypeFor[[]netip.Prefix]()
	webhookTypes  = reflect.TypeFor[webhook.Types]()
)

// parse reads text as a value of s, checking the tags' rules. It returns
// what is wrong instead when text is not valid.
func (s setting) parse(text string) (reflect.Value, []string) {
	text = strings.TrimSpace(text)
	switch s.typ {
	case durationType:
		d, err := time.ParseDuration(text)
		if s.tag.Get("min") == "0" && err == nil && d == 0 {
			return reflect.ValueOf(d), nil // zero allowed: "off"
		}
		if err != nil || d <= 0 {
			return reflect.Value{}, problem("%q is not a positive Go duration such as 30s or 1h", text)
		}
		return reflect.ValueOf(d), nil
	case durationsType:
		return parseDurations(text)
	case stringsType:
		return reflect.ValueOf(splitList(text)), nil
	case queuesType:
		return parseQueues(text)
	case prefixesType:
		return parsePrefixes(text)
	case webhookTypes:
		types, problems := webhook.ParseTypes(text)
		return reflect.ValueOf(types), problems
	case locationType:
		loc, err := time.LoadLocation(text)
		if err != nil || text == "" {
			return reflect.Value{}, problem("%q is not an IANA time zone such as Asia/Shanghai", text)
		}
		return reflect.ValueOf(loc), nil
	case authModeType:
		// Checked by Config.resolveAuth, which also decides what empty means.
		return reflect.ValueOf(app.AuthMode(strings.ToLower(text))), nil
	}
	switch s.typ.Kind() {
	case reflect.String:
		return s.parseString(text)
	case reflect.Int, reflect.Int64:
		return s.parseInt(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return reflect.Value{}, problem("%q is not true or false", text)
		}
		return reflect.ValueOf(b), nil
	}
	panic(fmt.Sprintf("config: %s has unsupported type %s", s.key, s.typ))
}

func problem(format string, args ...any) []string { return []string{fmt.Sprintf(format, args...)} }

func (s setting) parseString(text string) (reflect.Value, []string) {
	if text == "" && s.tag.Get("required") == "true" {
		return reflect.Value{}, problem("must be set")
	}
	if oneof, ok := s.tag.Lookup("oneof"); ok {
		text = strings.ToLower(text)
		allowed := strings.Fields(oneof)
		if !slices.Contains(allowed, text) {
			return reflect.Value{}, problem("%q is not one of %s", text, strings.Join(allowed, ", "))
		}
	}
	return reflect.ValueOf(text), nil
}

func (s setting) parseInt(text string) (reflect.Value, []string) {
	lo, hasLo := s.intTag("min")
	hi, hasHi := s.intTag("max")
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || (hasLo && n < lo) || (hasHi && n > hi) {
		return reflect.Value{}, problem("%q is not an integer%s", text, s.rangeText())
	}
	return reflect.ValueOf(n), nil
}

// rangeText describes the min and max tags: " between 1 and 10".
func (s setting) rangeText() string {
	lo, hasLo := s.tag.Lookup("min")
	hi, hasHi := s.tag.Lookup("max")
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

// intTag reads the integer tag name (min, max).
func (s setting) intTag(name string) (int64, bool) {
	v, ok := s.tag.Lookup(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("config: %s has %s:%q, not an integer", s.key, name, v))
	}
	return n, true
}

// parseDurations reads "24h,1h" into durations sorted from the longest.
func parseDurations(text string) (reflect.Value, []string) {
	var out []time.Duration
	var problems []string
	for _, part := range splitList(text) {
		d, err := time.ParseDuration(part)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("%q is not a positive Go duration such as 24h or 90m", part))
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return int(b - a) })
	return reflect.ValueOf(out), problems
}

// parseQueues reads "name:priority,..." (priority >= 1, at least one).
func parseQueues(text string) (reflect.Value, []string) {
	out := map[string]int{}
	var problems []string
	for _, part := range splitList(text) {
		name, prio, ok := strings.Cut(part, ":")
		n, err := strconv.Atoi(strings.TrimSpace(prio))
		name = strings.TrimSpace(name)
		if !ok || err != nil || n < 1 || name == "" {
			problems = append(problems, fmt.Sprintf("%q is not queue:priority with priority >= 1", part))
			continue
		}
		out[name] = n
	}
	if len(out) == 0 && len(problems) == 0 {
		problems = problem("needs at least one queue:priority")
	}
	return reflect.ValueOf(out), problems
}

// parsePrefixes reads "10.0.0.0/8,127.0.0.1": CIDRs, and addresses as
// prefixes of their full length.
func parsePrefixes(text string) (reflect.Value, []string) {
	var out []netip.Prefix
	var problems []string
	for _, part := range splitList(text) {
		p, err := netip.ParsePrefix(part)
		if err != nil {
			addr, aerr := netip.ParseAddr(part)
			if aerr != nil {
				problems = append(problems, fmt.Sprintf("%q is not an IP address or CIDR such as 10.0.0.0/8", part))
				continue
			}
			p = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return reflect.ValueOf(out), problems
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(text string) []string {
	var out []string
	for part := range strings.SplitSeq(text, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// formatValue writes v, a setting's field, as the text parse reads.
func formatValue(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		return formatDuration(x)
	case []time.Duration:
		parts := make([]string, len(x))
		for i, d := range x {
			parts[i] = formatDuration(d)
		}
		return strings.Join(parts, ",")
	case []string:
		return strings.Join(x, ",")
	case []netip.Prefix:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = p.String()
		}
		return strings.Join(parts, ",")
	case map[string]int:
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, fmt.Sprintf("%s:%d", name, x[name]))
		}
		return strings.Join(parts, ",")
	case webhook.Types:
		return x.String()
	case *time.Location:
		if x == nil {
			return ""
		}
		return x.String()
	}
	return fmt.Sprint(v.Interface())
}

// formatDuration is d without zero trailing units: 168h, not 168h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
