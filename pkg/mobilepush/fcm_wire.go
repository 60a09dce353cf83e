package mobilepush

import (
	"encoding/json"
	"strings"
	"time"
)

// fcmMessage is the "message" object of FCM's messages:send.
type fcmMessage struct {
	Token        string            `json:"token"`
	Notification *fcmNotification  `json:"notification,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
	Android      *fcmAndroid       `json:"android,omitempty"`
	APNs         *fcmAPNs          `json:"apns,omitempty"`
}

type fcmNotification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type fcmAndroid struct {
	CollapseKey string `json:"collapse_key,omitempty"`
}

type fcmAPNs struct {
	Headers map[string]string `json:"headers,omitempty"`
	Payload map[string]any    `json:"payload,omitempty"`
}

// fcmBody builds the request body of messages:send for m.
func fcmBody(m Message) map[string]fcmMessage {
	msg := fcmMessage{Token: m.Token, Data: m.Data}
	if m.Title != "" || m.Body != "" {
		msg.Notification = &fcmNotification{Title: m.Title, Body: m.Body}
	}
	var apns fcmAPNs
	if m.CollapseKey != "" {
		msg.Android = &fcmAndroid{CollapseKey: m.CollapseKey}
		apns.Headers = map[string]string{"apns-collapse-id": m.CollapseKey}
	}
	if m.Badge != nil {
		apns.Payload = map[string]any{"aps": map[string]int{"badge": *m.Badge}}
	}
	if apns.Headers != nil || apns.Payload != nil {
		msg.APNs = &apns
	}
	return map[string]fcmMessage{"message": msg}
}

// fcmErrorBody is FCM's error reply (a google.rpc.Status).
type fcmErrorBody struct {
	Error struct {
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

// fcmError classifies FCM's error reply. Reason is the FcmError errorCode
// when FCM gives one, else the google.rpc status.
func fcmError(rep *reply) error {
	var b fcmErrorBody
	_ = json.Unmarshal(rep.body, &b) // a body that is not FCM's leaves the status alone
	code := b.Error.Status
	namesToken := strings.Contains(strings.ToLower(b.Error.Message), "registration token")
	for _, d := range b.Error.Details {
		if d.ErrorCode != "" {
			code = d.ErrorCode
		}
		for _, v := range d.FieldViolations {
			namesToken = namesToken || v.Field == "message.token"
		}
	}
	e := &Error{Provider: "fcm", Status: rep.status, Reason: code, Message: b.Error.Message}
	e.Kind = fcmKind(rep.status, code, namesToken)
	if e.Kind == Retry {
		e.RetryAfter = parseRetryAfter(rep.header.Get("Retry-After"), time.Now())
	}
	return e
}

// fcmKind maps an FCM status and error code to a Kind. A 404 without FCM's
// error body (a wrong base URL, a proxy) is not taken for a dead token.
func fcmKind(status int, code string, namesToken bool) Kind {
	switch {
	case code == "UNREGISTERED", status == 404 && code != "":
		return DeadToken
	case code == "INVALID_ARGUMENT" && namesToken:
		return DeadToken
	case code == "UNAVAILABLE" || code == "INTERNAL" || code == "QUOTA_EXCEEDED":
		return Retry
	}
	return statusKind(status)
}
