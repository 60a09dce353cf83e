package app

// AuthMode says how callers prove who they are.
type AuthMode string

// Auth modes. In AuthInsecure the user ids in a request are trusted, as the
// original system did; in AuthJWT the caller is the token's subject.
const (
	AuthInsecure AuthMode = "insecure"
	AuthJWT      AuthMode = "jwt"
)

// Actor resolves who is acting. tokenUser is the authenticated user (0 when
// none), claimed is the id the request names in field (0 when absent).
//
// In jwt mode the token decides and a different claimed id is refused; in
// insecure mode the claimed id is trusted and required.
func Actor(mode AuthMode, tokenUser, claimed int64, field string) (int64, error) {
	if mode == AuthJWT {
		if tokenUser <= 0 {
			return 0, Errorf(EUnauthenticated, "missing or invalid bearer token")
		}
		if claimed != 0 && claimed != tokenUser {
			return 0, Errorf(EPermissionDenied, "%s %d is not the authenticated user", field, claimed)
		}
		return tokenUser, nil
	}
	if claimed <= 0 {
		return 0, Errorf(EInvalidArgument, "%s is required and must be a positive integer", field)
	}
	return claimed, nil
}

// Viewer is like Actor for reads: in insecure mode a missing id means an
// unchecked (trusted) read and returns 0.
func Viewer(mode AuthMode, tokenUser, claimed int64, field string) (int64, error) {
	if mode == AuthInsecure && claimed == 0 {
		return 0, nil
	}
	return Actor(mode, tokenUser, claimed, field)
}
