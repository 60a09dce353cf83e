package app

import (
	"strings"
	"time"
)

// ParseReserveTime reads a reserve_time: "YYYY-MM-DD HH:MM:SS" (TimeLayout)
// in loc, or RFC 3339. It truncates to whole seconds and checks that the
// time lies in (now, now+maxAhead]. Every error is an EInvalidArgument
// naming reserve_time; the input is quoted (%q), never echoed raw.
func ParseReserveTime(v string, loc *time.Location, now time.Time, maxAhead time.Duration) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, Errorf(EInvalidArgument, "reserve_time is required")
	}
	at, err := time.ParseInLocation(TimeLayout, v, loc)
	if err != nil {
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			return time.Time{}, Errorf(EInvalidArgument,
				`reserve_time %q must be "YYYY-MM-DD HH:MM:SS" (%s) or RFC 3339`, v, loc)
		}
	}
	at = at.Truncate(time.Second)
	if !at.After(now) {
		return time.Time{}, Errorf(EInvalidArgument, "reserve_time %s is not in the future", at.In(loc).Format(TimeLayout))
	}
	if at.After(now.Add(maxAhead)) {
		return time.Time{}, Errorf(EInvalidArgument, "reserve_time must be within %d days", int(maxAhead/(24*time.Hour)))
	}
	return at, nil
}
