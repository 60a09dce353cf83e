package app

import "strconv"

// AuthMode says how callers prove who they are.
type AuthMode string

// Auth modes. In AuthInsecure the user ids in a request are trusted, as the
// original system did; in AuthJWT the caller is the token's subject.
const (
	AuthInsecure AuthMode = "insecure"
	AuthJWT      AuthMode = "jwt"
)

// ParseUserID reads a user id in its one text form: a positive decimal
// integer without sign, leading zeros or spaces ("1001", never "+1001" or
// "01001"), so that one user is never named two ways. field names the
// parameter in the error.
func ParseUserID(s, field string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != s {
		return 0, Errorf(EInvalidArgument, "%s must be a positive integer in decimal, got %q", field, s)
	}
	return id, nil
}
