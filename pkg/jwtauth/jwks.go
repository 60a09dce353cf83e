package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// DefaultJWKSRefresh is how often RemoteKeys fetch their set by default.
const DefaultJWKSRefresh = 15 * time.Minute

// RemoteOptions configure RemoteKeys.
type RemoteOptions struct {
	// URL is the identity provider's JSON Web Key Set (https://…/jwks.json).
	URL string
	// Refresh is how often the set is fetched again (0: DefaultJWKSRefresh).
	Refresh time.Duration
	// UnknownKIDEvery bounds the fetches that a token naming a kid the set
	// lacks may cause: at most one per this interval (0: 30 s); tokens
	// beyond that fail at once instead of waiting, and the one that may
	// fetch waits for the fetch (at most Timeout).
	UnknownKIDEvery time.Duration
	// Timeout bounds one fetch (0: 10 s).
	Timeout time.Duration
	// Client fetches the set (nil: http.DefaultClient).
	Client *http.Client
	// OnError is called with every failed fetch (nil: nothing), e.g. to
	// count it.
	OnError func(error)
}

// RemoteKeys are the RS256/ES256 verification keys of a JWKS URL, kept
// fresh in the background: fetched at start, every Refresh, and (bounded)
// when a token names an unknown kid, so an identity provider can rotate
// its keys without a restart. A key the set no longer holds stops
// verifying after the next fetch.
type RemoteKeys struct {
	url string
	kf  keyfunc.Keyfunc

	mu      sync.Mutex
	lastErr error
}

// NewRemoteKeys starts fetching opts.URL; the background refresh stops
// when ctx ends. It does not fail when the first fetch fails (the node
// then is not ready: see Ready), only on a malformed URL.
func NewRemoteKeys(ctx context.Context, opts RemoteOptions) (*RemoteKeys, error) {
	refresh, every, timeout := opts.Refresh, opts.UnknownKIDEvery, opts.Timeout
	if refresh <= 0 {
		refresh = DefaultJWKSRefresh
	}
	if every <= 0 {
		every = 30 * time.Second
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	r := &RemoteKeys{url: opts.URL}
	onError := func(string) func(context.Context, error) {
		return func(_ context.Context, err error) {
			r.mu.Lock()
			r.lastErr = err
			r.mu.Unlock()
			if opts.OnError != nil {
				opts.OnError(err)
			}
		}
	}
	noErrorOnFirst := true
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{opts.URL}, keyfunc.Override{
		Client:                  opts.Client,
		HTTPTimeout:             timeout,
		RefreshInterval:         refresh,
		RefreshErrorHandlerFunc: onError,
		RefreshUnknownKID:       rate.NewLimiter(rate.Every(every), 1),
		// The fetch for an unknown kid runs within this too; a token beyond
		// the limiter's bound fails at once (its next turn is after it).
		RateLimitWaitMax:          timeout,
		NoErrorReturnFirstHTTPReq: &noErrorOnFirst,
	})
	if err != nil {
		return nil, fmt.Errorf("jwtauth: JWKS %s: %w", opts.URL, err)
	}
	r.kf = kf
	return r, nil
}

// Keys is the number of keys held now.
func (r *RemoteKeys) Keys(ctx context.Context) int {
	keys, err := r.kf.Storage().KeyReadAll(ctx)
	if err != nil {
		return 0
	}
	return len(keys)
}

// Ready is nil while at least one key is held; otherwise it says why
// (tokens of the identity provider cannot be verified).
func (r *RemoteKeys) Ready(ctx context.Context) error {
	if r.Keys(ctx) > 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastErr != nil {
		return fmt.Errorf("no verification keys from %s: %w", r.url, r.lastErr)
	}
	return fmt.Errorf("no verification keys from %s: the set is empty", r.url)
}

// key is the key a token with alg RS256/ES256 names by kid (one without a
// kid: every key of the set), refused unless it is a key of that
// algorithm and strength (as for keys from files).
func (r *RemoteKeys) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	got, err := r.kf.Keyfunc(t)
	if err != nil {
		return nil, err
	}
	fit := func(pub any) bool {
		a, err := algOf(Key{Public: pub})
		return err == nil && a == alg
	}
	switch k := got.(type) {
	case jwt.VerificationKeySet:
		var set jwt.VerificationKeySet
		for _, pub := range k.Keys {
			if fit(pub) {
				set.Keys = append(set.Keys, pub)
			}
		}
		if len(set.Keys) == 0 {
			return nil, fmt.Errorf("no %s key for this token", alg)
		}
		return set, nil
	default:
		if !fit(k) {
			return nil, errors.New("the token's key is not a usable " + alg + " key")
		}
		return k, nil
	}
}
