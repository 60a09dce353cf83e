package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
)

// bodies are the buffers request bodies are read into.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodeJSON reads the body into dst. An empty body leaves dst untouched
// when allowEmpty, and is an error otherwise. The body is read whole into
// a pooled buffer (it is bounded by bodyLimit) and decoded in one call;
// a body that is not valid UTF-8 is refused naming the field (see
// invalidUTF8). The service checks the decoded values.
func decodeJSON(c *gin.Context, limit int64, dst any, allowEmpty bool) error {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return emptyBody(allowEmpty)
	}
	buf := bodies.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			bodies.Put(buf)
		}
	}()
	_, err := buf.ReadFrom(c.Request.Body)
	if err == nil {
		if len(bytes.TrimSpace(buf.Bytes())) == 0 {
			return emptyBody(allowEmpty)
		}
		if !utf8.Valid(buf.Bytes()) {
			return invalidUTF8(buf.Bytes())
		}
		err = json.Unmarshal(buf.Bytes(), dst)
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

// pathID parses the :id path parameter, an integer (the service checks
// that it is a positive one).
func pathID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, app.Errorf(app.EInvalidArgument, "reservation id must be a positive integer, got %q", c.Param("id"))
	}
	return id, nil
}

// query parses optional integer query parameters, keeping the first error.
// It only converts: the service checks the values.
type query struct {
	c   *gin.Context
	err error
}

// int returns the parameter name, 0 when absent or empty.
func (q *query) int(name string) int64 {
	v := q.c.Query(name)
	if q.err != nil || v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		q.err = app.Errorf(app.EInvalidArgument, "%s must be an integer, got %q", name, v)
	}
	return n
}

// page returns the page and page_size parameters (0 when absent).
func (q *query) page() app.Page {
	return app.Page{Page: int(q.int("page")), PageSize: int(q.int("page_size"))}
}
