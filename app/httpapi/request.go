package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// maxPage bounds the page number so that offsets cannot overflow.
const maxPage = 1_000_000

// tokenUser returns the authenticated caller: in jwt mode the subject of a
// valid bearer token (a missing or invalid one is Unauthenticated); in
// insecure mode 0, since the ids in the request are trusted.
func (h *handler) tokenUser(c *gin.Context) (int64, error) {
	if h.opts.AuthMode != app.AuthJWT {
		return 0, nil
	}
	tok := jwtauth.BearerToken(c.GetHeader("Authorization"))
	if tok == "" {
		return 0, app.Errorf(app.EUnauthenticated, "missing bearer token")
	}
	user, err := h.opts.Verify(tok)
	if err != nil || user <= 0 {
		return 0, app.Errorf(app.EUnauthenticated, "invalid bearer token")
	}
	return user, nil
}

// decodeJSON reads the body into dst. An empty body leaves dst untouched
// when allowEmpty, and is an error otherwise.
func decodeJSON(c *gin.Context, limit int64, dst any, allowEmpty bool) error {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return emptyBody(allowEmpty)
	}
	dec := json.NewDecoder(c.Request.Body)
	err := dec.Decode(dst)
	if err == nil {
		if dec.Decode(&json.RawMessage{}) != io.EOF {
			err = errors.New("trailing data")
		}
	}
	var (
		tooBig *http.MaxBytesError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return bodyTooLarge(limit)
	case errors.Is(err, io.EOF):
		return emptyBody(allowEmpty)
	case errors.As(err, &typ) && typ.Field != "":
		return app.Errorf(app.EInvalidArgument, "%s must be a JSON %s, got %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &typ):
		return app.Errorf(app.EInvalidArgument, "request body must be a JSON object, got %s", typ.Value)
	default:
		return app.Errorf(app.EInvalidArgument, "request body is not valid JSON")
	}
}

func emptyBody(allowEmpty bool) error {
	if allowEmpty {
		return nil
	}
	return app.Errorf(app.EInvalidArgument, "request body is required")
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	case "bool":
		return "boolean"
	default:
		return kind
	}
}

// pathID parses the :id path parameter, a positive integer.
func pathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, app.Errorf(app.EInvalidArgument, "reservation id must be a positive integer, got %q", c.Param("id"))
	}
	return id, nil
}

// query parses optional integer query parameters, keeping the first error.
type query struct {
	c   *gin.Context
	err error
}

// int returns the parameter name, 0 when absent or empty; a present value
// must be an integer in [lo, hi].
func (q *query) int(name string, lo, hi int64) int64 {
	v := q.c.Query(name)
	if q.err != nil || v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && (n < lo || n > hi):
		q.err = app.Errorf(app.EInvalidArgument, "%s must be between %d and %d, got %s", name, lo, hi, v)
	case err != nil:
		q.err = app.Errorf(app.EInvalidArgument, "%s must be an integer, got %q", name, v)
	}
	return n
}

// id returns an optional positive id parameter.
func (q *query) id(name string) int64 { return q.int(name, 1, math.MaxInt64) }

// page returns page and page_size with the defaults applied.
func (q *query) page() app.Page {
	p := app.Page{Page: int(q.int("page", 1, maxPage)), PageSize: int(q.int("page_size", 1, app.MaxPageSize))}
	if q.err != nil {
		return p
	}
	p, q.err = p.Normalize()
	return p
}

// checkIDs refuses negative ids in a body: 0 means absent.
func checkIDs(names []string, ids ...int64) error {
	for i, id := range ids {
		if id < 0 {
			return app.Errorf(app.EInvalidArgument, "%s must be a positive integer, got %d", names[i], id)
		}
	}
	return nil
}
