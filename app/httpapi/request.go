package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi/reqbody"
)

// bodies are the buffers request bodies are read into.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodeJSON reads the body into dst (see reqbody.Decode). The body is
// read whole into a pooled buffer (it is bounded by bodyLimit) and decoded
// in one call. The service checks the decoded values.
func decodeJSON(c *gin.Context, limit int64, dst any, allowEmpty bool) error {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return reqbody.Decode(nil, dst, allowEmpty)
	}
	buf := bodies.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			bodies.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(c.Request.Body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bodyTooLarge(limit)
		}
		return app.Errorf(app.EInvalidArgument, "request body could not be read")
	}
	return reqbody.Decode(buf.Bytes(), dst, allowEmpty)
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
