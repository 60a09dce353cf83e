package httpapi

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

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

// uiRoot is where the asynq web UI is mounted.
const uiRoot = "/asynq"

// MountAsynqUI serves the asynq web UI (asynqmon) of the queues at redis
// at /asynq/ behind auth (Operator), its Metrics page querying the
// Prometheus at prometheus (none: ""). It returns the UI for closing.
func MountAsynqUI(e *gin.Engine, redis asynq.RedisConnOpt, prometheus string, auth gin.HandlerFunc) *asynqmon.HTTPHandler {
	h := asynqmon.New(asynqmon.Options{RootPath: uiRoot, RedisConnOpt: redis, PrometheusAddress: prometheus})
	e.GET(uiRoot, func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, uiRoot+"/") })
	e.Any(uiRoot+"/*any", auth, gin.WrapH(h))
	return h
}

// MountPprof serves Go's profiler at /debug/pprof/ behind auth (Operator).
func MountPprof(e *gin.Engine, auth gin.HandlerFunc) {
	g := e.Group("/debug/pprof", auth)
	g.GET("/", gin.WrapF(pprof.Index))
	g.GET("/cmdline", gin.WrapF(pprof.Cmdline))
	g.GET("/profile", gin.WrapF(pprof.Profile))
	g.GET("/symbol", gin.WrapF(pprof.Symbol))
	g.GET("/trace", gin.WrapF(pprof.Trace))
	g.GET("/:name", func(c *gin.Context) { pprof.Handler(c.Param("name")).ServeHTTP(c.Writer, c.Request) })
}
