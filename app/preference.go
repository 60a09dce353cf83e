package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// messageTypeNames name the message types in preferences (and in the
// webhook and push configuration), in type order.
var messageTypeNames = [...]string{
	MsgReservationCreated:   "created",
	MsgReservationConfirmed: "confirmed",
	MsgReservationCancelled: "cancelled",
	MsgReservationReminder:  "reminder",
	MsgReservationRejected:  "rejected",
	MsgGenericPush:          "push",
}

// MessageTypeNames are the names of the message types, in type order.
func MessageTypeNames() []string {
	return append([]string(nil), messageTypeNames[1:]...)
}

// Name is the name of t ("created", ..., "push"), or "" for an unknown one.
func (t MessageType) Name() string {
	if t < MsgReservationCreated || int(t) >= len(messageTypeNames) {
		return ""
	}
	return messageTypeNames[t]
}

// ParseMessageTypeName returns the type named name, or false.
func ParseMessageTypeName(name string) (MessageType, bool) {
	for t, n := range messageTypeNames {
		if t > 0 && n == name {
			return MessageType(t), true
		}
	}
	return 0, false
}

// Bounds of Preferences.
const (
	MaxRemindersMutedFor = 1000 // reservation ids in RemindersMutedFor
	MaxTimeZoneBytes     = 64   // an IANA zone name ("America/Argentina/ComodRivadavia" is 32)
	DefaultTimeZone      = "UTC"
)

// ChannelPreference says where a user gets the messages of one type: in
// the app (the user's stream: live sessions, the stored list) and by
// mobile push.
type ChannelPreference struct {
	InApp bool `json:"in_app"`
	Push  bool `json:"push"`
	// List keeps a message the user turned off in the app (InApp false)
	// in the stored list: it is stored already seen and read, and no live
	// session receives it. It does nothing when InApp is true.
	List bool `json:"list"`
}

// Preferences are one user's notification preferences. With nothing
// stored a user gets DefaultPreferences: every type in the app and by
// mobile push, no quiet hours.
type Preferences struct {
	UserID int64 `json:"user_id"`
	// Types holds every message type by name (MessageTypeNames).
	Types map[string]ChannelPreference `json:"types"`
	// TimeZone is the IANA zone quiet hours are read in.
	TimeZone string `json:"time_zone"`
	// QuietStart and QuietEnd are local times "HH:MM" between which
	// mobile pushes are held back until QuietEnd; both empty: no quiet
	// hours. The period may cross midnight (22:00 to 07:00).
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
	// RemindersMutedFor are the reservations whose viewing reminders the
	// user does not want (in the app nor by push), ascending.
	RemindersMutedFor []int64 `json:"reminders_muted_for"`

	loc *time.Location // TimeZone, loaded by Check
}

// DefaultPreferences are user's preferences when none are stored.
func DefaultPreferences(user int64) Preferences {
	p := Preferences{UserID: user, TimeZone: DefaultTimeZone, RemindersMutedFor: []int64{}}
	if err := p.Check(); err != nil {
		panic(err) // the defaults are valid
	}
	return p
}

// Check validates p as a client gives it, fills in the types it does not
// name (on), sorts and deduplicates RemindersMutedFor and loads the time
// zone (an empty one is DefaultTimeZone). It returns an EInvalidArgument
// naming the first bad field.
func (p *Preferences) Check() error {
	types := make(map[string]ChannelPreference, len(messageTypeNames)-1)
	for _, name := range slices.Sorted(maps.Keys(p.Types)) {
		if _, ok := ParseMessageTypeName(name); !ok {
			return Errorf(EInvalidArgument, "types: %.40q is not a message type (one of %s)", name, strings.Join(MessageTypeNames(), ", "))
		}
		types[name] = p.Types[name]
	}
	for _, name := range MessageTypeNames() {
		if _, ok := types[name]; !ok {
			types[name] = ChannelPreference{InApp: true, Push: true}
		}
	}
	p.Types = types
	if p.TimeZone == "" {
		p.TimeZone = DefaultTimeZone
	}
	if len(p.TimeZone) > MaxTimeZoneBytes || strings.ContainsAny(p.TimeZone, " \\") || strings.HasPrefix(p.TimeZone, "/") ||
		strings.Contains(p.TimeZone, "..") {
		return Errorf(EInvalidArgument, "time_zone must be an IANA time zone name such as Europe/Paris (got %.70q)", p.TimeZone)
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil || strings.EqualFold(p.TimeZone, "Local") {
		return Errorf(EInvalidArgument, "time_zone must be an IANA time zone name such as Europe/Paris (got %.70q)", p.TimeZone)
	}
	p.loc = loc
	start, okStart, err := ParseClock(p.QuietStart, "quiet_start")
	if err != nil {
		return err
	}
	end, okEnd, err := ParseClock(p.QuietEnd, "quiet_end")
	if err != nil {
		return err
	}
	switch {
	case okStart != okEnd:
		return Errorf(EInvalidArgument, "quiet_start and quiet_end go together: give both, or neither for no quiet hours")
	case okStart && start == end:
		return Errorf(EInvalidArgument, "quiet_start and quiet_end must differ (got %s for both)", p.QuietStart)
	}
	if len(p.RemindersMutedFor) > MaxRemindersMutedFor {
		return Errorf(EInvalidArgument, "reminders_muted_for has %d reservations, at most %d", len(p.RemindersMutedFor), MaxRemindersMutedFor)
	}
	ids := slices.Clone(p.RemindersMutedFor)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 0 && ids[0] <= 0 {
		return Errorf(EInvalidArgument, "reminders_muted_for must hold reservation ids (positive integers), got %d", ids[0])
	}
	if ids == nil {
		ids = []int64{}
	}
	p.RemindersMutedFor = ids
	return nil
}

// ParseClock reads a local time of day "HH:MM" (00:00 to 23:59) as
// minutes after midnight; "" is none (false). field names it in the error.
func ParseClock(s, field string) (minutes int, ok bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	bad := len(s) != 5 || s[2] != ':'
	for _, i := range []int{0, 1, 3, 4} {
		bad = bad || i >= len(s) || s[i] < '0' || s[i] > '9'
	}
	var h, m int
	if !bad {
		h, m = int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	}
	if bad || h > 23 || m > 59 {
		return 0, false, Errorf(EInvalidArgument, "%s must be a time of day HH:MM such as 22:00 (got %.20q)", field, s)
	}
	return h*60 + m, true, nil
}

// FormatClock writes minutes after midnight as "HH:MM".
func FormatClock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// Location is the time zone of p (UTC before Check).
func (p *Preferences) Location() *time.Location {
	if p.loc == nil {
		return time.UTC
	}
	return p.loc
}

// reminderMuted reports whether the reminders of reservation are muted.
func (p *Preferences) reminderMuted(reservation int64) bool {
	_, found := slices.BinarySearch(p.RemindersMutedFor, reservation)
	return found
}

// channel returns the preference of type t for a message of reservation
// (0: none). A viewing reminder (a reminder of a reservation) follows only
// RemindersMutedFor: muting the reminder type does not mute the reminders
// of the viewings the user booked or owns.
func (p *Preferences) channel(t MessageType, reservation int64) ChannelPreference {
	if t == MsgReservationReminder && reservation > 0 {
		on := !p.reminderMuted(reservation)
		return ChannelPreference{InApp: on, Push: on}
	}
	c, ok := p.Types[t.Name()]
	if !ok {
		return ChannelPreference{InApp: true, Push: true}
	}
	return c
}

// InApp reports whether a message of type t (about reservation, 0 for
// none) goes to the user's stream.
func (p *Preferences) InApp(t MessageType, reservation int64) bool {
	return p.channel(t, reservation).InApp
}

// List reports whether a message of type t (about reservation, 0 for
// none) that InApp turns off is still stored in the user's stream, already
// seen and read and delivered to no session.
func (p *Preferences) List(t MessageType, reservation int64) bool {
	return p.channel(t, reservation).List
}

// Push reports whether a message of type t (about reservation, 0 for none)
// goes to the user's mobile devices.
func (p *Preferences) Push(t MessageType, reservation int64) bool {
	return p.channel(t, reservation).Push
}

// QuietUntil reports whether now falls in p's quiet hours, read in p's
// time zone, and when they end: the instant mobile pushes may go out.
func (p *Preferences) QuietUntil(now time.Time) (time.Time, bool) {
	start, okStart, _ := ParseClock(p.QuietStart, "")
	end, okEnd, _ := ParseClock(p.QuietEnd, "")
	if !okStart || !okEnd || start == end {
		return time.Time{}, false
	}
	local := now.In(p.Location())
	m := local.Hour()*60 + local.Minute()
	y, mo, d := local.Date()
	var days int
	switch {
	case start < end && m >= start && m < end: // 01:00-06:00, now 03:00
	case start > end && m < end: // 22:00-07:00, now 03:00
	case start > end && m >= start: // 22:00-07:00, now 23:00: ends tomorrow
		days = 1
	default:
		return time.Time{}, false
	}
	return time.Date(y, mo, d+days, end/60, end%60, 0, 0, p.Location()), true
}

// ReservationOf returns the "reservation_id" of a notification's JSON
// payload, or 0 when it has none.
func ReservationOf(payload []byte) int64 {
	var n struct {
		ReservationID int64 `json:"reservation_id"`
	}
	if json.Unmarshal(payload, &n) != nil {
		return 0
	}
	return n.ReservationID
}
