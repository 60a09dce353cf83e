package mobilepush

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// FCMScope is the OAuth2 scope of the FCM HTTP v1 API.
const FCMScope = "https://www.googleapis.com/auth/firebase.messaging"

// FCMBaseURL is the default FCM API base URL.
const FCMBaseURL = "https://fcm.googleapis.com"

// FCMConfig configures an FCM provider.
type FCMConfig struct {
	// ServiceAccountJSON is the Firebase service-account key file's content.
	ServiceAccountJSON []byte
	// ProjectID overrides the key's project_id.
	ProjectID string
	// TokenURL overrides the key's token_uri (the OAuth2 token endpoint).
	TokenURL string
	// BaseURL overrides FCMBaseURL.
	BaseURL string
	// HTTPClient sends both the token and the send requests; nil means a
	// client with DefaultTimeout. A token request does not follow Send's
	// context (oauth2 token sources take none): the client's Timeout
	// bounds it.
	HTTPClient *http.Client
}

// FCM sends through Firebase Cloud Messaging's HTTP v1 API.
type FCM struct {
	client  *http.Client
	tokens  oauth2.TokenSource
	sendURL string
}

// NewFCM checks the service-account key and returns an FCM provider. No
// request is made until the first Send.
func NewFCM(cfg FCMConfig) (*FCM, error) {
	jc, err := google.JWTConfigFromJSON(cfg.ServiceAccountJSON, FCMScope)
	if err != nil {
		return nil, errors.New("mobilepush: fcm: service-account key: " + err.Error())
	}
	if err := checkRSAKey(jc.PrivateKey); err != nil {
		return nil, err
	}
	if cfg.TokenURL != "" {
		jc.TokenURL = cfg.TokenURL
	}
	project := cfg.ProjectID
	if project == "" {
		var key struct {
			ProjectID string `json:"project_id"`
		}
		_ = json.Unmarshal(cfg.ServiceAccountJSON, &key) // parsed above
		project = key.ProjectID
	}
	if project == "" {
		return nil, errors.New("mobilepush: fcm: no project ID in the key or the config")
	}
	base := cfg.BaseURL
	if base == "" {
		base = FCMBaseURL
	}
	client := clientOr(cfg.HTTPClient)
	// The token source keeps this context for its token requests: it
	// carries only the HTTP client.
	tctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	return &FCM{
		client:  client,
		tokens:  jc.TokenSource(tctx), // cached until shortly before expiry
		sendURL: strings.TrimSuffix(base, "/") + "/v1/projects/" + url.PathEscape(project) + "/messages:send",
	}, nil
}

// checkRSAKey fails early on a key that oauth2 could not sign with, so that
// a token-minting failure at send time means a network or server problem.
func checkRSAKey(p []byte) error {
	block, _ := pem.Decode(p)
	if block == nil {
		return errors.New("mobilepush: fcm: private_key is not PEM")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return errors.New("mobilepush: fcm: private_key: " + err.Error())
	}
	return nil
}

// Name returns "fcm".
func (f *FCM) Name() string { return "fcm" }

// Send posts m to FCM's messages:send.
func (f *FCM) Send(ctx context.Context, m Message) error {
	if err := checkMessage("fcm", m); err != nil {
		return err
	}
	tok, err := f.tokens.Token()
	if err != nil {
		return tokenError(err)
	}
	rep, err := postJSON(ctx, f.client, "fcm", f.sendURL, fcmBody(m), func(r *http.Request) {
		tok.SetAuthHeader(r)
	})
	if err != nil {
		return err
	}
	if rep.status/100 == 2 {
		return nil
	}
	return fcmError(rep)
}

// tokenError classifies a failure to mint the access token: the token
// endpoint's 429 and 5xx, and failures without an answer, are Retry; its
// other refusals (a revoked or unknown key) are Permanent.
func tokenError(err error) error {
	e := &Error{Kind: Retry, Provider: "fcm", Reason: "oauth2_token", Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e.Status = re.Response.StatusCode
		e.Kind = statusKind(e.Status)
		e.Message = re.ErrorCode
		if e.Kind == Retry {
			e.RetryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		}
	}
	return e
}
