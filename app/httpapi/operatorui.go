package httpapi

import (
	"net/http"
	"net/http/pprof"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
)

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
