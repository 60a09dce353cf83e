package jwtauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = 5 * time.Second

// Claims are what a verified token says.
type Claims struct {
	User    int64     // the subject
	Expires time.Time // exp
}

// Options configure a Verifier. At least one of Secret and Keys is needed.
type Options struct {
	// Secret verifies HS256 tokens (nil: HS256 is refused).
	Secret []byte
	// Keys verify RS256 (RSA keys) and ES256 (ECDSA P-256 keys) tokens. A
	// token whose kid names a key is checked with that key only; one
	// without a kid, or with a kid no key has, with every key without an
	// ID (from PEM files).
	Keys []Key
	// Issuer and Audience, when set, must be the token's iss and one of
	// its aud.
	Issuer, Audience string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Verifier checks tokens.
type Verifier struct {
	secret []byte
	byID   map[string]Key
	anon   []Key
	parser *jwt.Parser
}

// NewVerifier returns a Verifier of HS256 tokens signed with secret. now is
// the clock (nil: time.Now).
func NewVerifier(secret []byte, now func() time.Time) *Verifier {
	v, err := New(Options{Secret: secret, Now: now})
	if err != nil {
		panic(err) // only an empty secret fails, and it is not empty here
	}
	return v
}

// New returns a Verifier for opts.
func New(opts Options) (*Verifier, error) {
	v := &Verifier{secret: opts.Secret, byID: map[string]Key{}}
	methods := map[string]bool{}
	if len(opts.Secret) > 0 {
		methods[jwt.SigningMethodHS256.Alg()] = true
	}
	for _, k := range opts.Keys {
		alg, err := algOf(k)
		if err != nil {
			return nil, err
		}
		methods[alg] = true
		if k.ID == "" {
			v.anon = append(v.anon, k)
		} else {
			v.byID[k.ID] = k
		}
	}
	if len(methods) == 0 {
		return nil, errors.New("jwtauth: no secret and no public key to verify tokens with")
	}
	var valid []string
	for _, m := range []string{"HS256", "RS256", "ES256"} {
		if methods[m] {
			valid = append(valid, m)
		}
	}
	popts := []jwt.ParserOption{jwt.WithValidMethods(valid), jwt.WithExpirationRequired(), jwt.WithLeeway(Leeway)}
	if opts.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		popts = append(popts, jwt.WithAudience(opts.Audience))
	}
	if opts.Now != nil {
		popts = append(popts, jwt.WithTimeFunc(opts.Now))
	}
	v.parser = jwt.NewParser(popts...)
	return v, nil
}

// algOf is the one algorithm a key verifies.
func algOf(k Key) (string, error) {
	switch pub := k.Public.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return "", fmt.Errorf("jwtauth: key %q: RSA keys need at least 2048 bits, got %d", k.ID, pub.N.BitLen())
		}
		return "RS256", nil
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return "", fmt.Errorf("jwtauth: key %q: only P-256 (ES256) ECDSA keys are supported", k.ID)
		}
		return "ES256", nil
	}
	return "", fmt.Errorf("jwtauth: key %q: %T is not an RSA or ECDSA public key", k.ID, k.Public)
}

// keyFor picks the keys that may have signed t (its alg is one of the
// valid methods already).
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == "HS256" {
		return v.secret, nil
	}
	if kid, _ := t.Header["kid"].(string); kid != "" {
		if k, ok := v.byID[kid]; ok {
			if a, _ := algOf(k); a != alg {
				return nil, fmt.Errorf("key %q is not a %s key", kid, alg)
			}
			return k.Public, nil
		}
	}
	var set jwt.VerificationKeySet
	for _, k := range v.anon {
		if a, _ := algOf(k); a == alg {
			set.Keys = append(set.Keys, k.Public)
		}
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("no %s key for this token", alg)
	}
	return set, nil
}

// Verify returns the user id a valid token names.
func (v *Verifier) Verify(token string) (int64, error) {
	c, err := v.Claims(token)
	return c.User, err
}

// Claims returns the user and expiry of a valid token.
func (v *Verifier) Claims(token string) (Claims, error) {
	var claims jwt.RegisteredClaims
	if _, err := v.parser.ParseWithClaims(token, &claims, v.keyFor); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	// One text form per user: "+1001" or "01001" would name user 1001 too,
	// and an identity provider with opaque subjects would collapse two
	// principals onto one user.
	user, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || user <= 0 || strconv.FormatInt(user, 10) != claims.Subject {
		return Claims{}, fmt.Errorf("%w: subject %q is not a user id in decimal", ErrInvalidToken, claims.Subject)
	}
	return Claims{User: user, Expires: claims.ExpiresAt.Time}, nil
}
