package main

import (
	"net/http"
	"net/http/pprof"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynqmon"
)

// uiRoot is where the asynq web UI is mounted.
const uiRoot = "/asynq"

// mountUI serves asynqmon at /asynq/ behind the operator auth and returns
// it for closing.
func mountUI(e *gin.Engine, cfg *Config, auth gin.HandlerFunc) *asynqmon.HTTPHandler {
	h := asynqmon.New(asynqmon.Options{
		RootPath:          uiRoot,
		RedisConnOpt:      cfg.Redis.asynqConnOpt(),
		PrometheusAddress: cfg.UI.PrometheusAddr, // its Metrics page queries this Prometheus
	})
	e.GET(uiRoot, func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, uiRoot+"/") })
	e.Any(uiRoot+"/*any", auth, gin.WrapH(h))
	return h
}

// mountPprof serves Go's profiler at /debug/pprof/ behind the operator auth.
func mountPprof(e *gin.Engine, auth gin.HandlerFunc) {
	g := e.Group("/debug/pprof", auth)
	g.GET("/", gin.WrapF(pprof.Index))
	g.GET("/cmdline", gin.WrapF(pprof.Cmdline))
	g.GET("/profile", gin.WrapF(pprof.Profile))
	g.GET("/symbol", gin.WrapF(pprof.Symbol))
	g.GET("/trace", gin.WrapF(pprof.Trace))
	g.GET("/:name", func(c *gin.Context) { pprof.Handler(c.Param("name")).ServeHTTP(c.Writer, c.Request) })
}
