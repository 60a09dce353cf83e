package mobilepush

import "context"

// Message is one notification for one device.
type Message struct {
	// Token is the provider's device address: an FCM registration token, an
	// APNs device token (hex) or a JPush registration ID.
	Token string
	// Title and Body are the visible alert.
	Title, Body string
	// Data is delivered to the app alongside the alert (FCM data, APNs
	// custom keys at the top of the payload, JPush extras).
	Data map[string]string
	// CollapseKey, when set, lets a newer notification replace an older one
	// with the same key (FCM android.collapse_key and apns-collapse-id, APNs
	// apns-collapse-id, JPush options.apns_collapse_id).
	CollapseKey string
	// Badge, when set, is the app icon's badge number (iOS).
	Badge *int
}

// Provider sends messages through one push provider. Send returns nil once
// the provider has accepted the message, and otherwise an [*Error].
// Implementations are safe for concurrent use.
type Provider interface {
	// Name is the provider's short name: "fcm", "apns" or "jpush".
	Name() string
	// Send delivers m to the provider.
	Send(ctx context.Context, m Message) error
}

// checkMessage refuses a message without a device token.
func checkMessage(provider string, m Message) error {
	if m.Token == "" {
		return &Error{Kind: Permanent, Provider: provider, Reason: "empty_token", Message: "message has no device token"}
	}
	return nil
}

var (
	_ Provider = (*FCM)(nil)
	_ Provider = (*APNs)(nil)
	_ Provider = (*JPush)(nil)
)
