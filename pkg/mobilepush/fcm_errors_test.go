package mobilepush

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// fcmErrBody is FCM's error body with an FcmError code and, if field is
// set, a BadRequest field violation.
func fcmErrBody(code int, status, errorCode, message, field string) string {
	details := fmt.Sprintf(`{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":%q}`, errorCode)
	if field != "" {
		details += fmt.Sprintf(`,{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":%q,"description":"bad"}]}`, field)
	}
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"status":%q,"details":[%s]}}`, code, message, status, details)
}

func TestFCMErrors(t *testing.T) {
	tests := []errCase{
		{name: "unregistered", answer: answer{status: 404, body: fcmErrBody(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.", "")},
			wantKind: DeadToken, wantReason: "UNREGISTERED"},
		{name: "invalid token field", answer: answer{status: 400, body: fcmErrBody(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid value", "message.token")},
			wantKind: DeadToken, wantReason: "INVALID_ARGUMENT"},
		{name: "invalid token message", answer: answer{status: 400, body: fcmErrBody(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "")},
			wantKind: DeadToken, wantReason: "INVALID_ARGUMENT"},
		{name: "invalid other field", answer: answer{status: 400, body: fcmErrBody(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid value", "message.android.ttl")},
			wantKind: Permanent, wantReason: "INVALID_ARGUMENT"},
		{name: "quota seconds", answer: answer{status: 429, header: map[string]string{"Retry-After": "30"}, body: fcmErrBody(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "quota", "")},
			wantKind: Retry, wantReason: "QUOTA_EXCEEDED", wantRetry: 30 * time.Second},
		{name: "unavailable date", answer: answer{status: 503, header: map[string]string{"Retry-After": httpDateIn(90 * time.Second)}, body: fcmErrBody(503, "UNAVAILABLE", "UNAVAILABLE", "try later", "")},
			wantKind: Retry, wantReason: "UNAVAILABLE", wantRetry: 90 * time.Second},
		{name: "internal", answer: answer{status: 500, body: fcmErrBody(500, "INTERNAL", "INTERNAL", "oops", "")},
			wantKind: Retry, wantReason: "INTERNAL"},
		{name: "bad gateway html", answer: answer{status: 502, body: "<html>bad gateway</html>"},
			wantKind: Retry},
		{name: "third party auth", answer: answer{status: 401, body: fcmErrBody(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "APNs cert", "")},
			wantKind: Permanent, wantReason: "THIRD_PARTY_AUTH_ERROR"},
		{name: "sender mismatch", answer: answer{status: 403, body: fcmErrBody(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "mismatch", "")},
			wantKind: Permanent, wantReason: "SENDER_ID_MISMATCH"},
		{name: "plain 404", answer: answer{status: 404, body: "404 page not found"},
			wantKind: Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeFCM(t)
			f.sendAns = tt.answer
			err := f.provider(t).Send(context.Background(), Message{Token: "tok-a", Body: "b"})
			checkErr(t, "fcm", err, tt)
		})
	}
}

func TestFCMTokenErrors(t *testing.T) {
	tests := []errCase{
		{name: "invalid grant", answer: answer{status: 400, header: map[string]string{"Content-Type": "application/json"}, body: `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`},
			wantKind: Permanent, wantReason: "oauth2_token"},
		{name: "token endpoint down", answer: answer{status: 503, header: map[string]string{"Retry-After": "5"}, body: "busy"},
			wantKind: Retry, wantReason: "oauth2_token", wantRetry: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeFCM(t)
			f.tokenAns = tt.answer
			err := f.provider(t).Send(context.Background(), Message{Token: "tok-a", Body: "b"})
			checkErr(t, "fcm", err, tt)
			if len(f.bodies) != 0 {
				t.Error("sent without a token")
			}
		})
	}
}

func TestFCMNoAnswer(t *testing.T) {
	f := newFakeFCM(t)
	p := f.provider(t)
	f.srv.Close() // nothing listens: the token fetch fails to connect
	err := p.Send(context.Background(), Message{Token: "tok-a", Body: "b"})
	checkErr(t, "fcm", err, errCase{wantKind: Retry, wantReason: "oauth2_token"})

	// A send that gets no answer after a good token.
	f2 := newFakeFCM(t)
	f2.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			f2.token(w, r)
			return
		}
		panic(http.ErrAbortHandler) // drops the connection
	})
	err = f2.provider(t).Send(context.Background(), Message{Token: "tok-a", Body: "b"})
	checkErr(t, "fcm", err, errCase{wantKind: Retry})
}

func TestNewFCMRefuses(t *testing.T) {
	pemKey, _ := json.Marshal(testRSAPEM(t))
	for name, key := range map[string]string{
		"not json":   `{`,
		"no project": `{"type":"service_account","client_email":"a@b","private_key":` + string(pemKey) + `,"token_uri":"https://t"}`,
		"bad key":    `{"type":"service_account","project_id":"p","client_email":"a@b","private_key":"x","token_uri":"https://t"}`,
	} {
		if _, err := NewFCM(FCMConfig{ServiceAccountJSON: []byte(key)}); err == nil {
			t.Errorf("%s: NewFCM accepted the key", name)
		}
	}
	ok := `{"type":"service_account","client_email":"a@b","private_key":` + string(pemKey) + `,"token_uri":"https://t"}`
	if _, err := NewFCM(FCMConfig{ServiceAccountJSON: []byte(ok), ProjectID: "p"}); err != nil {
		t.Errorf("ProjectID from the config: %v", err)
	}
	if err := (&FCM{}).Send(context.Background(), Message{}); !IsPermanent(err) {
		t.Errorf("empty token: %v, want Permanent", err)
	}
}
