package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/houseview/gateway/app"
)

// The headers of a webhook request besides Content-Type and User-Agent.
const (
	// HeaderTimestamp is when the request was signed, in unix seconds.
	HeaderTimestamp = "X-Gateway-Timestamp"
	// HeaderSignature is Signature(secret, timestamp, body).
	HeaderSignature = "X-Gateway-Signature"
	// HeaderIdempotencyKey is the message id: the same on every attempt,
	// node and republish of one notification.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderAttempt counts the attempts of this notification, from 1.
	HeaderAttempt = "X-Gateway-Attempt"
)

// DefaultTolerance is how far from the receiver's clock Verify accepts a
// timestamp: a captured request cannot be replayed later than this.
const DefaultTolerance = 5 * time.Minute

// signaturePrefix names the algorithm in HeaderSignature.
const signaturePrefix = "sha256="

// Signature returns the value of HeaderSignature for body sent at ts (unix
// seconds): "sha256=" and the lower-case hex HMAC-SHA256, keyed with
// secret, of the timestamp's decimal digits, ".", and the body's bytes.
func Signature(secret []byte, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a webhook request as a receiver should: timestamp and
// signature are its HeaderTimestamp and HeaderSignature, body its raw
// body. The signature must be body's at that timestamp, and the timestamp
// within tolerance of now. It returns nil or an app.EUnauthenticated error.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || ts <= 0 {
		return app.Errorf(app.EUnauthenticated, "%s is not unix seconds", HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return app.Errorf(app.EUnauthenticated, "%s is %s away from now, more than %s", HeaderTimestamp, d.Abs().Round(time.Second), tolerance)
	}
	if !strings.HasPrefix(signature, signaturePrefix) {
		return app.Errorf(app.EUnauthenticated, "%s does not start with %s", HeaderSignature, signaturePrefix)
	}
	if !hmac.Equal([]byte(signature), []byte(Signature(secret, ts, body))) {
		return app.Errorf(app.EUnauthenticated, "%s does not match the body", HeaderSignature)
	}
	return nil
}
