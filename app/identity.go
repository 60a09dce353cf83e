package app

// AuthMode says how callers prove who they are.
type AuthMode string

// Auth modes. In AuthInsecure the user ids in a request are trusted, as the
// original system did; in AuthJWT the caller is the token's subject.
const (
	AuthInsecure AuthMode = "insecure"
	AuthJWT      AuthMode = "jwt"
)
