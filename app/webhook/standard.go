package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// The headers of the Standard Webhooks format (www.standardwebhooks.com),
// which verifier libraries in many languages check.
const (
	// HeaderWebhookID is the message id: the same on every attempt.
	HeaderWebhookID = "webhook-id"
	// HeaderWebhookTimestamp is when the request was signed, unix seconds.
	HeaderWebhookTimestamp = "webhook-timestamp"
	// HeaderWebhookSignature is "v1," + StandardSignature.
	HeaderWebhookSignature = "webhook-signature"
)

// Formats of the webhook requests (webhook.format).
const (
	// FormatStandard signs with the Standard Webhooks headers.
	FormatStandard = "standard"
	// FormatGateway signs with X-Gateway-Timestamp and X-Gateway-Signature
	// (Signature), for receivers written against them.
	FormatGateway = "gateway"
)

// secretPrefix marks a Standard Webhooks secret: the rest is the key,
// base64-encoded.
const secretPrefix = "whsec_"

// SigningKey is the HMAC key of secret: a "whsec_" secret is base64-decoded
// first, as the specification says; any other secret is used as it is.
func SigningKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("a %s secret must be base64 after the prefix: %v", secretPrefix, err)
	}
	return key, nil
}

// StandardSignature is the value of HeaderWebhookSignature for the message
// id sent at ts (unix seconds) with body: "v1," and the base64 HMAC-SHA256,
// keyed with key (SigningKey), of id, ".", the timestamp's digits, ".",
// and the body's bytes.
func StandardSignature(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
