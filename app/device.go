package app

import (
	"strings"
	"time"
)

// Platform is the push service that delivers to a device.
type Platform string

// The platforms a device may be registered for.
const (
	PlatformFCM   Platform = "fcm"   // Firebase Cloud Messaging (Android, web, iOS through Firebase)
	PlatformAPNs  Platform = "apns"  // Apple Push Notification service
	PlatformJPush Platform = "jpush" // JPush (极光推送)
)

// Platforms lists every Platform, in documentation order.
var Platforms = []Platform{PlatformFCM, PlatformAPNs, PlatformJPush}

// Bounds of a device's fields.
const (
	MaxDeviceTokenBytes = 512 // a provider token: FCM's are about 160, APNs's 64 hex, JPush's about 20
	MaxDeviceAppChars   = 128 // the app's name or bundle id
	MaxDeviceLocale     = 35  // a BCP 47 language tag (RFC 5646's longest practical tag)
)

// Device is one app installation that receives mobile push: the user it
// belongs to, the provider and the provider's token for it. A token
// belongs to one user at a time.
type Device struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Platform  Platform  `json:"platform"`
	Token     string    `json:"token"`
	App       string    `json:"app,omitempty"`    // free text: the app's name or bundle id, for the platform's own use
	Locale    string    `json:"locale,omitempty"` // BCP 47 tag ("zh-CN", "en"): the language of its pushes
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"` // the last registration of the token
}

// ParsePlatform returns the Platform named s, or EInvalidArgument.
func ParsePlatform(s string) (Platform, error) {
	for _, p := range Platforms {
		if string(p) == s {
			return p, nil
		}
	}
	return "", Errorf(EInvalidArgument, "platform must be one of fcm, apns, jpush (got %.40q)", s)
}

// Check returns an EInvalidArgument naming the first field of d (as given
// by a client registering it) that is not valid: the platform, a token of
// 1 to MaxDeviceTokenBytes printable ASCII characters without spaces, an
// app name as OneLine text, a locale of letters, digits and '-' or '_'.
func (d *Device) Check() error {
	if _, err := ParsePlatform(string(d.Platform)); err != nil {
		return err
	}
	if d.Token == "" || len(d.Token) > MaxDeviceTokenBytes {
		return Errorf(EInvalidArgument, "token must be 1 to %d bytes (got %d)", MaxDeviceTokenBytes, len(d.Token))
	}
	for i := 0; i < len(d.Token); i++ {
		if c := d.Token[i]; c <= ' ' || c >= 0x7f {
			return Errorf(EInvalidArgument, "token must be printable ASCII without spaces (byte %d)", i)
		}
	}
	if n := len([]rune(d.App)); n > MaxDeviceAppChars {
		return Errorf(EInvalidArgument, "app must be at most %d characters (got %d)", MaxDeviceAppChars, n)
	}
	if err := CheckText("app", d.App, OneLine); err != nil {
		return err
	}
	if len(d.Locale) > MaxDeviceLocale || strings.IndexFunc(d.Locale, notLocaleRune) >= 0 {
		return Errorf(EInvalidArgument, "locale must be a language tag such as zh-CN or en (at most %d letters, digits, '-')", MaxDeviceLocale)
	}
	return nil
}

func notLocaleRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}
