package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

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
	if r.CreateErrors > 0 {
		return []string{fmt.Sprintf("%d creates failed", r.CreateErrors)}
	}
	return nil
}

func (c *reserveConfig) run(ctx context.Context, o *orch) (scenarioReport, error) {
	fmt.Fprintf(o.out, "reserve: POST /house/reserve against raw INSERTs, %d in flight, %s each\n", c.concurrency, c.duration)
	nodes, err := o.startNodes(ctx, 1)
	if err != nil {
		return nil, err
	}
	rep := &reserveReport{Concurrency: c.concurrency}
	var lat []int64
	cpu0 := cpuSeconds(nodes[0].Pid())
	rep.Creates, rep.CreateErrors, lat, err = c.creates(ctx, o, nodes[0].HTTPURL)
	if err != nil {
		return nil, err
	}
	rep.CreatesPerSec = float64(rep.Creates) / c.duration.Seconds()
	rep.NodeCPUUS = cpuShare(cpuSeconds(nodes[0].Pid())-cpu0, rep.Creates)
	q := quantiles(lat, 0.5, 0.99)
	rep.CreateP50MS, rep.CreateP99MS = q[0]/1000, q[1]/1000
	rep.NodeWarnings = stopNodes(nodes)
	if rep.Inserts, err = c.rawInserts(ctx, o); err != nil {
		return nil, err
	}
	rep.InsertsPerSec = float64(rep.Inserts) / c.duration.Seconds()
	if rep.InsertsPerSec > 0 {
		rep.Ratio = round2(rep.CreatesPerSec / rep.InsertsPerSec)
	}
	return rep, nil
}

// creates books viewings for duration from concurrency workers: each
// request a distinct (tenant, house, time), so none is refused as a
// duplicate. It returns the successful creates, the failures and each
// create's latency in µs.
func (c *reserveConfig) creates(ctx context.Context, o *orch, base string) (int64, int64, []int64, error) {
	tokens := make([]string, c.viewers)
	for i := range tokens {
		if o.cfg.auth != "jwt" {
			break
		}
		tok, err := jwtauth.Sign([]byte(o.jwtSecret), int64(100000+i), time.Now(), time.Hour)
		if err != nil {
			return 0, 0, nil, err
		}
		tokens[i] = tok
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency}, Timeout: 10 * time.Second}
	var ok, failed, next atomic.Int64
	var mu sync.Mutex
	var lat []int64
	end := time.Now().Add(c.duration)
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() {
			var mine []int64
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for time.Now().Before(end) && ctx.Err() == nil {
				k := next.Add(1)
				tenant := int(k) % c.viewers
				// A distinct slot per request: minutes ahead, over 300 houses.
				when := time.Now().Add(24*time.Hour + time.Duration(k)*time.Minute).In(shanghai).Format("2006-01-02 15:04:05")
				body := fmt.Sprintf(`{"user_id":%d,"user_name":"租客%d","house_id":%d,"reserve_time":%q}`,
					100000+tenant, tenant, 3001+k%300, when)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/house/reserve", bytes.NewReader([]byte(body)))
				req.Header.Set("Content-Type", "application/json")
				if tokens[tenant] != "" {
					req.Header.Set("Authorization", "Bearer "+tokens[tenant])
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusCreated {
					failed.Add(1)
					continue
				}
				mine = append(mine, time.Since(start).Microseconds())
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return ok.Load(), failed.Load(), lat, ctx.Err()
}

// shanghai is the gateway's default zone of reserve_time.
var shanghai = time.FixedZone("CST", 8*3600)

// rawInserts runs single-row INSERTs (autocommit) into a copy of the
// reservations table, from concurrency connections, for duration.
func (c *reserveConfig) rawInserts(ctx context.Context, o *orch) (int64, error) {
	db, err := sql.Open("mysql", testenv.DSNOn(o.cfg.mysqlDSN, o.dbName))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(c.concurrency)
	db.SetMaxIdleConns(c.concurrency)
	if _, err := db.ExecContext(ctx, "CREATE TABLE raw_reservations LIKE reservations"); err != nil {
		return 0, fmt.Errorf("raw inserts: %w", err)
	}
	var n, next atomic.Int64
	end := time.Now().Add(c.duration)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for range c.concurrency {
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				k := next.Add(1)
				at := time.Now().Add(24*time.Hour + time.Duration(k)*time.Minute).UTC()
				_, err := db.ExecContext(ctx, `INSERT INTO raw_reservations
					(house_id, tenant_id, landlord_id, house_title, tenant_name, reserve_time, status, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
					3001+k%300, 100000+k%int64(c.viewers), 2001, "精装修两室一厅", "租客", at, time.Now().UTC(), time.Now().UTC())
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("raw insert: %w", firstErr)
	}
	return n.Load(), nil
}
