package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
)

// Key is a public key that verifies RS256 (RSA) or ES256 (ECDSA P-256)
// tokens; ID is the kid it is known by in a JWKS ("" for PEM keys).
type Key struct {
	ID     string
	Public crypto.PublicKey
}

// ParsePEM reads every public key of a PEM file: "PUBLIC KEY" (PKIX),
// "RSA PUBLIC KEY" (PKCS #1) or "CERTIFICATE" blocks.
func ParsePEM(data []byte) ([]Key, error) {
	var keys []Key
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var pub any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("jwtauth: PEM block %q is not a public key or certificate", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("jwtauth: PEM block %q: %w", block.Type, err)
		}
		k := Key{Public: pub}
		if _, err := algOf(k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("jwtauth: no PEM public key found")
	}
	return keys, nil
}

// jwk is one key of a JWKS (RFC 7517): the members this package reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// ParseJWKS reads a JSON Web Key Set ({"keys":[...]}). It keeps the RSA
// and EC P-256 keys meant for signatures (use "sig" or none) and fails on
// a malformed one; keys of other types (e.g. "oct", "OKP") are skipped.
func ParseJWKS(data []byte) ([]Key, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("jwtauth: JWKS: %w", err)
	}
	var keys []Key
	for i, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var pub crypto.PublicKey
		var err error
		switch k.Kty {
		case "RSA":
			pub, err = rsaKey(k)
		case "EC":
			pub, err = ecKey(k)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("jwtauth: JWKS key %d (kid %q): %w", i, k.Kid, err)
		}
		key := Key{ID: k.Kid, Public: pub}
		alg, err := algOf(key)
		if err != nil {
			return nil, err
		}
		if k.Alg != "" && k.Alg != alg {
			continue // meant for another algorithm
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("jwtauth: JWKS has no RS256 or ES256 signature key")
	}
	return keys, nil
}

func rsaKey(k jwk) (*rsa.PublicKey, error) {
	n, err := b64Int(k.N)
	if err != nil {
		return nil, fmt.Errorf("n: %w", err)
	}
	e, err := b64Int(k.E)
	if err != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
		return nil, errors.New("e is not a valid exponent")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

func ecKey(k jwk) (*ecdsa.PublicKey, error) {
	if k.Crv != "P-256" {
		return nil, fmt.Errorf("curve %q is not P-256", k.Crv)
	}
	x, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || len(x) != 32 {
		return nil, errors.New("x is not 32 bytes of base64url")
	}
	y, err := base64.RawURLEncoding.DecodeString(k.Y)
	if err != nil || len(y) != 32 {
		return nil, errors.New("y is not 32 bytes of base64url")
	}
	// The uncompressed point form checks that the point is on the curve.
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, err
	}
	return pub, nil
}

func b64Int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("not base64url")
	}
	return new(big.Int).SetBytes(b), nil
}

// LoadKeys reads the keys of a PEM file and of a JWKS file (either path
// may be empty).
func LoadKeys(pemFile, jwksFile string) ([]Key, error) {
	var keys []Key
	for _, f := range []struct {
		path  string
		parse func([]byte) ([]Key, error)
	}{{pemFile, ParsePEM}, {jwksFile, ParseJWKS}} {
		if f.path == "" {
			continue
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		ks, err := f.parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
		keys = append(keys, ks...)
	}
	return keys, nil
}
