package webhook_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/houseview/gateway/app/webhook"
)

// TestStandardSignatureVerifiesWithTheReferenceLibrary signs as the
// gateway does and verifies with the specification's own Go library: with
// a whsec_ secret (base64 key) and with a plain secret (the library's raw
// mode), and fails for a changed body, id or key.
func TestStandardSignatureVerifiesWithTheReferenceLibrary(t *testing.T) {
	body := []byte(`{"id":"m1","type":2}`)
	now := time.Now()
	raw := []byte("0123456789abcdef0123456789abcdef")
	whsec := "whsec_" + base64.StdEncoding.EncodeToString(raw)
	for _, tt := range []struct {
		name   string
		secret string
		lib    func() (*standardwebhooks.Webhook, error)
	}{
		{"whsec_ secret", whsec, func() (*standardwebhooks.Webhook, error) { return standardwebhooks.NewWebhook(whsec) }},
		{"plain secret, raw mode", string(raw), func() (*standardwebhooks.Webhook, error) { return standardwebhooks.NewWebhookRaw(raw) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key, err := webhook.SigningKey(tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			h.Set(webhook.HeaderWebhookID, "m1")
			h.Set(webhook.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
			h.Set(webhook.HeaderWebhookSignature, webhook.StandardSignature(key, "m1", now.Unix(), body))
			verifier, err := tt.lib()
			if err != nil {
				t.Fatal(err)
			}
			if err := verifier.Verify(body, h); err != nil {
				t.Fatalf("the reference library refuses the gateway's signature: %v", err)
			}
			if err := verifier.Verify([]byte(`{"id":"m1","type":3}`), h); err == nil {
				t.Error("a changed body verified")
			}
			other := h.Clone()
			other.Set(webhook.HeaderWebhookID, "m2")
			if err := verifier.Verify(body, other); err == nil {
				t.Error("a changed id verified")
			}
		})
	}
	if _, err := webhook.SigningKey("whsec_not*base64"); err == nil {
		t.Error("a whsec_ secret that is not base64 was accepted")
	}
}
