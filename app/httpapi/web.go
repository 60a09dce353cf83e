package httpapi

import (
	"bytes"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httperr"
)

// MountWeb serves files (the demo page and the JavaScript client) under
// /web/ and redirects / to it.
func MountWeb(e *gin.Engine, files fs.FS) {
	e.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/web/") })
	e.GET("/web/*file", func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		if name == "" {
			name = "index.html"
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			httperr.Write(c.Writer, app.Errorf(app.ENotFound, "no file %s", c.Request.URL.Path))
			return
		}
		// The type comes from the name's extension (.html), but not for
		// scripts, styles and types: the system's MIME table must not
		// decide them (a module script or a style sheet of the wrong type
		// is refused by the browser).
		switch {
		case strings.HasSuffix(name, ".js"):
			c.Header("Content-Type", "text/javascript; charset=utf-8")
		case strings.HasSuffix(name, ".css"):
			c.Header("Content-Type", "text/css; charset=utf-8")
		case strings.HasSuffix(name, ".d.ts"):
			c.Header("Content-Type", "application/typescript; charset=utf-8")
		}
		if strings.HasPrefix(name, "gateway-client.") {
			// A module other origins may import (module scripts need CORS).
			c.Header("Access-Control-Allow-Origin", "*")
		}
		c.Header("Cache-Control", "no-cache")
		http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(b))
	})
}
