package grpcapi

import (
	"context"

	"github.com/houseview/gateway/app"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// PreferenceService reads and replaces users' notification preferences
// (see preferences.Service).
type PreferenceService interface {
	// Get returns user's preferences (the defaults when none are stored).
	Get(ctx context.Context, user int64) (app.Preferences, error)
	// Update validates p and replaces p.UserID's preferences with it.
	Update(ctx context.Context, p app.Preferences) (app.Preferences, error)
}

// errNoPreferences answers the preference methods of a server without them.
var errNoPreferences = app.Errorf(app.EUnavailable, "notification preferences are not available on this node")

// GetPreferences returns the preferences of the caller's user.
func (h *house) GetPreferences(ctx context.Context, req *housev1.GetPreferencesRequest) (*housev1.PreferencesReply, error) {
	if h.prefs == nil {
		return nil, errNoPreferences
	}
	user, err := callerOf(ctx).Actor(req.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	p, err := h.prefs.Get(ctx, user)
	if err != nil {
		return nil, err
	}
	return &housev1.PreferencesReply{Preferences: preferences(p)}, nil
}

// UpdatePreferences replaces the preferences of the caller's user.
func (h *house) UpdatePreferences(ctx context.Context, req *housev1.UpdatePreferencesRequest) (*housev1.PreferencesReply, error) {
	if h.prefs == nil {
		return nil, errNoPreferences
	}
	in := req.GetPreferences()
	user, err := callerOf(ctx).Actor(in.GetUserId(), "user_id")
	if err != nil {
		return nil, err
	}
	p := app.Preferences{UserID: user, TimeZone: in.GetTimeZone(), QuietStart: in.GetQuietStart(), QuietEnd: in.GetQuietEnd(),
		RemindersMutedFor: in.GetRemindersMutedFor()}
	if len(in.GetTypes()) > 0 {
		p.Types = make(map[string]app.ChannelPreference, len(in.GetTypes()))
		for name, c := range in.GetTypes() {
			p.Types[name] = app.ChannelPreference{InApp: c.GetInApp(), Push: c.GetPush(), List: c.GetList()}
		}
	}
	p, err = h.prefs.Update(ctx, p)
	if err != nil {
		return nil, err
	}
	return &housev1.PreferencesReply{Preferences: preferences(p)}, nil
}

// preferences converts p to its gRPC form, field for field with its JSON.
func preferences(p app.Preferences) *housev1.Preferences {
	out := &housev1.Preferences{UserId: p.UserID, TimeZone: p.TimeZone, QuietStart: p.QuietStart, QuietEnd: p.QuietEnd,
		RemindersMutedFor: p.RemindersMutedFor, Types: make(map[string]*housev1.ChannelPreference, len(p.Types))}
	for name, c := range p.Types {
		out.Types[name] = &housev1.ChannelPreference{InApp: c.InApp, Push: c.Push, List: c.List}
	}
	return out
}
