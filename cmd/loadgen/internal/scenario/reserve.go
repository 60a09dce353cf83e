package scenario

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/delivery"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/testenv"
)

// reserveConfig is the reserve scenario: the reservation create path
// (POST /house/reserve) against a raw single-row INSERT into a table like
// reservations, at the same concurrency on the same MariaDB.
type reserveConfig struct {
	concurrency int
	duration    time.Duration
	viewers     int // tenants the creates are spread over
}

func (c *reserveConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.concurrency, "concurrency", 32, "requests (and raw INSERTs) in flight")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long each half runs")
	fs.IntVar(&c.viewers, "tenants", 5000, "tenants the bookings are spread over (each booking its own slot)")
}

func (c *reserveConfig) check() error {
	if c.concurrency <= 0 || c.duration <= 0 || c.viewers <= 0 {
		return errors.New("-concurrency, -duration and -tenants must be positive")
	}
	return nil
}

// reserveReport compares the create path with raw INSERTs.
type reserveReport struct {
	Concurrency   int     `json:"concurrency"`
	Creates       int64   `json:"creates"`
	CreateErrors  int64   `json:"create_errors"`
	CreatesPerSec float64 `json:"creates_per_s"`
	CreateP50MS   float64 `json:"create_p50_ms"`
	CreateP99MS   float64 `json:"create_p99_ms"`
	NodeCPUUS     float64 `json:"node_cpu_us_per_create"`
	Inserts       int64   `json:"raw_inserts"`
	InsertsPerSec float64 `json:"raw_inserts_per_s"`
	Ratio         float64 `json:"ratio"` // creates per second / raw inserts per second
	NodeWarnings  []int   `json:"node_log_warnings"`
}

func (r *reserveReport) failures() []string {
	return delivery.Failures(r.CreateErrors, "creates failed")
}

func (c *reserveConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "reserve: POST /house/reserve against raw INSERTs, %d in flight, %s each\n", c.concurrency, c.duration)
	nodes, err := o.startNodes(ctx, 1)
	if err != nil {
		return nil, err
	}
	rep, cpu0 := &reserveReport{Concurrency: c.concurrency}, measure.CPUSeconds(nodes[0].Pid())
	create, err := c.creates(o, nodes[0].HTTPURL)
	if err != nil {
		return nil, err
	}
	var lat []int64
	rep.Creates, rep.CreateErrors, lat, _ = c.workers(ctx, create)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.CreatesPerSec = float64(rep.Creates) / c.duration.Seconds()
	rep.NodeCPUUS = cpuShare(measure.CPUSeconds(nodes[0].Pid())-cpu0, rep.Creates)
	q := measure.Quantiles(lat, 0.5, 0.99)
	rep.CreateP50MS, rep.CreateP99MS = q[0]/1000, q[1]/1000
	rep.NodeWarnings = stopNodes(nodes)
	// Raw single-row INSERTs (autocommit) into a copy of the reservations table.
	db, err := sql.Open("mysql", testenv.DSNOn(o.cfg.mysqlDSN, o.dbName))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(c.concurrency)
	db.SetMaxIdleConns(c.concurrency)
	if _, err := db.ExecContext(ctx, "CREATE TABLE raw_reservations LIKE reservations"); err != nil {
		return nil, fmt.Errorf("raw inserts: %w", err)
	}
	rep.Inserts, _, _, err = c.workers(ctx, func(ctx context.Context, k int64) error {
		at := time.Now().Add(24*time.Hour + time.Duration(k)*time.Minute).UTC()
		_, err := db.ExecContext(ctx, `INSERT INTO raw_reservations
			(house_id, tenant_id, landlord_id, house_title, tenant_name, reserve_time, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
			3001+k%300, 100000+k%int64(c.viewers), 2001, "精装修两室一厅", "租客", at, time.Now().UTC(), time.Now().UTC())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("raw insert: %w", err)
	}
	rep.InsertsPerSec = float64(rep.Inserts) / c.duration.Seconds()
	if rep.InsertsPerSec > 0 {
		rep.Ratio = measure.Round2(rep.CreatesPerSec / rep.InsertsPerSec)
	}
	return rep, nil
}

// workers calls f from concurrency goroutines for duration, each call with
// the next k; it returns the calls that succeeded, those that failed, the
// successful calls' µs and the first error.
func (c *reserveConfig) workers(ctx context.Context, f func(ctx context.Context, k int64) error) (ok, failed int64, us []int64, first error) {
	var mu sync.Mutex
	var next atomic.Int64
	end := time.Now().Add(c.duration)
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				start := time.Now()
				err := f(ctx, next.Add(1))
				mu.Lock()
				if err == nil {
					ok, us = ok+1, append(us, time.Since(start).Microseconds())
				} else if failed++; first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return ok, failed, us, first
}

// creates returns the booking of request k: each a distinct (tenant,
// house, time), so none is refused as a duplicate.
func (c *reserveConfig) creates(o *orch, base string) (func(context.Context, int64) error, error) {
	tokens := make([]string, c.viewers)
	for i := range tokens {
		var err error
		if o.cfg.auth == "jwt" {
			if tokens[i], err = jwtauth.Sign([]byte(o.jwtSecret), int64(100000+i), time.Now(), time.Hour); err != nil {
				return nil, err
			}
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency}, Timeout: 10 * time.Second}
	shanghai := time.FixedZone("CST", 8*3600) // the gateway's default zone of reserve_time
	return func(ctx context.Context, k int64) error {
		tenant := int(k) % c.viewers
		// A distinct slot per request: minutes ahead, over 300 houses.
		when := time.Now().Add(24*time.Hour + time.Duration(k)*time.Minute).In(shanghai).Format("2006-01-02 15:04:05")
		body := fmt.Sprintf(`{"user_id":%d,"user_name":"租客%d","house_id":%d,"reserve_time":%q}`, 100000+tenant, tenant, 3001+k%300, when)
		status, _, err := push.Send(ctx, client, http.MethodPost, base+"/house/reserve", tokens[tenant], []byte(body))
		if err == nil && status != http.StatusCreated {
			err = errors.New(http.StatusText(status))
		}
		return err
	}, nil
}
