package webhook_test

import (
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
)

const secret = "whsec-0123456789abcdef0123456789abcdef"

// TestSignatureKnownValue: the signature is what openssl computes over
// "<timestamp>.<body>":
//
//	printf '%s' '1700000000.{"id":"m1","type":2}' | openssl dgst -sha256 -hmac "$secret"
func TestSignatureKnownValue(t *testing.T) {
	got := webhook.Signature([]byte(secret), 1700000000, []byte(`{"id":"m1","type":2}`))
	want := "sha256=c7cff138328af533dd906f1b325dc9de0352dad6449d4e0a20727019d42a9263"
	if got != want {
		t.Errorf("Signature = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"m1","type":2}`)
	now := time.Unix(1700000000, 0)
	sig := webhook.Signature([]byte(secret), now.Unix(), body)
	tests := []struct {
		name      string
		secret    string
		timestamp string
		signature string
		body      string
		now       time.Time
		want      string // the error's code; "" for nil
	}{
		{"valid", secret, "1700000000", sig, string(body), now, ""},
		{"4 minutes late", secret, "1700000000", sig, string(body), now.Add(4 * time.Minute), ""},
		{"6 minutes late (a replay)", secret, "1700000000", sig, string(body), now.Add(6 * time.Minute), app.EUnauthenticated},
		{"6 minutes early", secret, "1700000000", sig, string(body), now.Add(-6 * time.Minute), app.EUnauthenticated},
		{"body changed", secret, "1700000000", sig, `{"id":"m1","type":3}`, now, app.EUnauthenticated},
		{"timestamp changed", secret, "1700000001", sig, string(body), now, app.EUnauthenticated},
		{"another secret", "another-secret-0123456789abcdef01", "1700000000", sig, string(body), now, app.EUnauthenticated},
		{"no timestamp", secret, "", sig, string(body), now, app.EUnauthenticated},
		{"timestamp not digits", secret, "1700000000.5", sig, string(body), now, app.EUnauthenticated},
		{"no signature", secret, "1700000000", "", string(body), now, app.EUnauthenticated},
		{"hex without its algorithm", secret, "1700000000", sig[len("sha256="):], string(body), now, app.EUnauthenticated},
		{"upper-case hex", secret, "1700000000", "sha256=C7CFF138328AF533DD906F1B325DC9DE0352DAD6449D4E0A20727019D42A9263", string(body), now, app.EUnauthenticated},
	}
	for _, tt := range tests {
		err := webhook.Verify([]byte(tt.secret), tt.timestamp, tt.signature, []byte(tt.body), tt.now, webhook.DefaultTolerance)
		if got := app.ErrorCode(err); got != tt.want {
			t.Errorf("%s: Verify = %v, want code %q", tt.name, err, tt.want)
		}
	}
}
