package app_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
)

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in   string
		want app.Platform
		code string
	}{
		{"fcm", app.PlatformFCM, ""},
		{"apns", app.PlatformAPNs, ""},
		{"jpush", app.PlatformJPush, ""},
		{"FCM", "", app.EInvalidArgument},
		{"", "", app.EInvalidArgument},
		{"wns", "", app.EInvalidArgument},
		{" apns", "", app.EInvalidArgument},
	}
	for _, tt := range tests {
		got, err := app.ParsePlatform(tt.in)
		if diff := cmp.Diff([]string{string(tt.want), tt.code}, []string{string(got), app.ErrorCode(err)}); diff != "" {
			t.Errorf("ParsePlatform(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestDeviceCheck(t *testing.T) {
	valid := app.Device{UserID: 1, Platform: app.PlatformFCM, Token: "tok", App: "看房 App", Locale: "zh-CN"}
	with := func(f func(*app.Device)) app.Device {
		d := valid
		f(&d)
		return d
	}
	tests := []struct {
		name  string
		d     app.Device
		field string // the field the error names; "" for none
	}{
		{"valid", valid, ""},
		{"no app nor locale", with(func(d *app.Device) { d.App, d.Locale = "", "" }), ""},
		{"longest token", with(func(d *app.Device) { d.Token = strings.Repeat("x", app.MaxDeviceTokenBytes) }), ""},
		{"longest app", with(func(d *app.Device) { d.App = strings.Repeat("房", app.MaxDeviceAppChars) }), ""},
		{"underscore locale", with(func(d *app.Device) { d.Locale = "zh_Hans_CN" }), ""},
		{"unknown platform", with(func(d *app.Device) { d.Platform = "wns" }), "platform"},
		{"empty token", with(func(d *app.Device) { d.Token = "" }), "token"},
		{"token too long", with(func(d *app.Device) { d.Token = strings.Repeat("x", app.MaxDeviceTokenBytes+1) }), "token"},
		{"token with a space", with(func(d *app.Device) { d.Token = "a b" }), "token"},
		{"token with a control", with(func(d *app.Device) { d.Token = "a\x7f" }), "token"},
		{"token not ASCII", with(func(d *app.Device) { d.Token = "令牌" }), "token"},
		{"app too long", with(func(d *app.Device) { d.App = strings.Repeat("房", app.MaxDeviceAppChars+1) }), "app"},
		{"app on two lines", with(func(d *app.Device) { d.App = "a\nb" }), "app"},
		{"app with a bidi control", with(func(d *app.Device) { d.App = "a\u202eb" }), "app"},
		{"locale with a space", with(func(d *app.Device) { d.Locale = "zh CN" }), "locale"},
		{"locale too long", with(func(d *app.Device) { d.Locale = strings.Repeat("a", app.MaxDeviceLocale+1) }), "locale"},
	}
	for _, tt := range tests {
		err := tt.d.Check()
		got := ""
		if err != nil {
			got, _, _ = strings.Cut(app.ErrorMessage(err), " ")
			if app.ErrorCode(err) != app.EInvalidArgument {
				t.Errorf("%s: code %q, want invalid_argument", tt.name, app.ErrorCode(err))
			}
		}
		if diff := cmp.Diff(tt.field, got); diff != "" {
			t.Errorf("%s: the field named (-want +got):\n%s\nerror: %v", tt.name, diff, err)
		}
	}
}
