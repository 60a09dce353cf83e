package webhook

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/houseview/gateway/app"
)

// Types are the notification types that are posted, each with its own
// grace period (0: the default one). A generic push (app.MsgGenericPush)
// is posted only when its sender asked (app.Message.Webhook) and "push" is
// listed.
type Types map[app.MessageType]time.Duration

// typeName is a message type's name in the configuration.
type typeName struct {
	name string
	t    app.MessageType
}

// typeNames name the message types, in type order.
var typeNames = []typeName{
	{"created", app.MsgReservationCreated},
	{"confirmed", app.MsgReservationConfirmed},
	{"cancelled", app.MsgReservationCancelled},
	{"reminder", app.MsgReservationReminder},
	{"rejected", app.MsgReservationRejected},
	{"push", app.MsgGenericPush},
}

// TypeNames are the names ParseTypes knows, in type order.
func TypeNames() []string {
	out := make([]string, len(typeNames))
	for i, n := range typeNames {
		out[i] = n.name
	}
	return out
}

// DefaultTypes lists every type with the default grace: each reservation
// event, and the pushes that ask for it.
func DefaultTypes() Types {
	t := Types{}
	for _, n := range typeNames {
		t[n.t] = 0
	}
	return t
}

// ParseTypes reads "name[:grace],...", e.g. "confirmed,reminder:10s,push".
// Empty text lists no type. It returns what is wrong with each bad item.
func ParseTypes(text string) (Types, []string) {
	out := Types{}
	var problems []string
	for part := range strings.SplitSeq(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, grace, hasGrace := strings.Cut(part, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		i := slices.IndexFunc(typeNames, func(n typeName) bool { return n.name == name })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("%q is not one of %s, optionally with :grace (reminder:10s)",
				part, strings.Join(TypeNames(), ", ")))
			continue
		}
		var d time.Duration
		if hasGrace {
			var err error
			if d, err = time.ParseDuration(strings.TrimSpace(grace)); err != nil || d <= 0 {
				problems = append(problems, fmt.Sprintf("%q: %q is not a positive Go duration such as 10s", part, grace))
				continue
			}
		}
		out[typeNames[i].t] = d
	}
	return out, problems
}

// UnmarshalText reads text as ParseTypes does, into t; the error joins one
// per bad item.
func (t *Types) UnmarshalText(text []byte) error {
	types, problems := ParseTypes(string(text))
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = errors.New(p)
	}
	*t = types
	return errors.Join(errs...)
}

// String is the text ParseTypes reads, in type order.
func (t Types) String() string {
	var parts []string
	for _, n := range typeNames {
		grace, ok := t[n.t]
		switch {
		case !ok:
		case grace > 0:
			parts = append(parts, n.name+":"+shortDuration(grace))
		default:
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ",")
}

// shortDuration is d without zero trailing units: 1m, not 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// grace returns the grace period of m and whether m is posted at all.
func (t Types) grace(m app.Message, fallback time.Duration) (time.Duration, bool) {
	typ := m.Type()
	d, ok := t[typ]
	if !ok || (typ == app.MsgGenericPush && !m.Webhook) {
		return 0, false
	}
	if d == 0 {
		d = fallback
	}
	return d, true
}
