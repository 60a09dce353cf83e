package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// runChart is "loadgen chart": an SVG of the latency percentiles of the
// ramp runs in a JSON-lines file against the offered rate, or, in a file
// without ramp runs, of the last soak run's node resources over time.
func runChart(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	fs.SetOutput(stdout)
	in := fs.String("in", "", "JSON-lines file of runs (loadgen -json); its ramp runs are drawn, or else its last soak run")
	out := fs.String("out", "ramp.svg", "SVG file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("chart: -in is required")
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	runs, soak, err := readChartRuns(f)
	f.Close()
	if err != nil {
		return err
	}
	if len(runs) == 0 && soak != nil {
		if err := os.WriteFile(*out, soakSVG(soak), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (the last soak run)\n", *out)
		return nil
	}
	if len(runs) == 0 {
		return fmt.Errorf("chart: no ramp or soak run in %s", *in)
	}
	if err := os.WriteFile(*out, rampSVG(runs), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d ramp runs)\n", *out, len(runs))
	return nil
}

// chartRun is one ramp run to draw.
type chartRun struct {
	Label  string
	Report rampReport
}

// readRampRuns reads the ramp runs of a JSON-lines file, in order.
func readRampRuns(r io.Reader) ([]chartRun, error) {
	runs, _, err := readChartRuns(r)
	return runs, err
}

// readChartRuns reads the ramp runs of a JSON-lines file, in order, and its
// last soak run (nil if none).
func readChartRuns(r io.Reader) ([]chartRun, *soakReport, error) {
	var (
		runs []chartRun
		soak *soakReport
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	labels := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec struct {
			Scenario   string          `json:"scenario"`
			Conditions conditions      `json:"conditions"`
			Results    json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line, err)
		}
		if rec.Scenario == "soak" {
			soak = &soakReport{}
			if err := json.Unmarshal(rec.Results, soak); err != nil {
				return nil, nil, fmt.Errorf("line %d: %w", line, err)
			}
			continue
		}
		if rec.Scenario != "ramp" {
			continue
		}
		var rep rampReport
		if err := json.Unmarshal(rec.Results, &rep); err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line, err)
		}
		label := fmt.Sprintf("batch %d", rep.Batch)
		if labels[label]++; labels[label] > 1 {
			label = fmt.Sprintf("%s (run %d)", label, labels[label])
		}
		runs = append(runs, chartRun{Label: label, Report: rep})
	}
	return runs, soak, sc.Err()
}

// The chart's geometry, in SVG user units.
const (
	chartW, chartH             = 960, 540
	plotL, plotR, plotT, plotB = 80, 700, 70, 470
)

var (
	percentileColors = map[string]string{"p50": "#1b9e77", "p90": "#d95f02", "p99": "#7570b3"}
	runDashes        = []string{"", "8 4", "2 3", "12 3 2 3"}
)

// rampSVG draws p50, p90 and p99 (from the scheduled send, ms, log scale)
// against each step's offered rate, one line style per run, with the p99
// limit and each run's last good rate.
func rampSVG(runs []chartRun) []byte {
	xMax, yMin, yMax, limit := chartRanges(runs)
	x := func(rate float64) float64 { return plotL + rate/xMax*(plotR-plotL) }
	y := func(msv float64) float64 {
		v := math.Log10(min(max(msv, yMin), yMax))
		return plotB - (v-math.Log10(yMin))/(math.Log10(yMax)-math.Log10(yMin))*(plotB-plotT)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	r0 := runs[0].Report
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="17" font-weight="bold">%s</text>`+"\n", plotL, xmlText("Latency from the scheduled send against the offered rate (loadgen ramp)"))
	fmt.Fprintf(&b, `<text x="%d" y="50" fill="#555">%s</text>`+"\n", plotL, xmlText(fmt.Sprintf("%d users, %d node(s); a point per step; hollow: a bad step", r0.Users, r0.Nodes)))
	// Axes and grid.
	for d := math.Log10(yMin); d <= math.Log10(yMax)+1e-9; d++ {
		v := math.Pow(10, d)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", plotL, plotR, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s ms</text>`+"\n", plotL-6, y(v)+4, trimFloat(v))
	}
	tick := niceStep(xMax / 8)
	for v := 0.0; v <= xMax+1e-9; v += tick {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/>`+"\n", x(v), x(v), plotT, plotB)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(v), plotB+18, trimFloat(v))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", plotL, plotT, plotR-plotL, plotB-plotT)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">offered rate (messages per second)</text>`+"\n", (plotL+plotR)/2, plotB+42)
	fmt.Fprintf(&b, `<text transform="translate(22 %d) rotate(-90)" text-anchor="middle">latency, ms (log scale)</text>`+"\n", (plotT+plotB)/2)
	if limit > 0 {
		fmt.Fprintf(&b, `<line class="limit" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#c00" stroke-dasharray="6 3"/>`+"\n", plotL, plotR, y(limit), y(limit))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="#c00" text-anchor="end">p99 limit %s ms</text>`+"\n", plotR-4, y(limit)-5, trimFloat(limit))
	}
	// Series and the legend.
	ly := plotT + 6
	for ri, run := range runs {
		dash := runDashes[ri%len(runDashes)]
		if run.Report.LastGoodRate > 0 {
			lx := x(run.Report.LastGoodRate)
			fmt.Fprintf(&b, `<line class="last-good" x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#888" stroke-dasharray="%s"/>`+"\n", lx, lx, plotT, plotB, orDash(dash, "1 3"))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", plotR+16, ly+4, xmlText(run.Label))
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">%s</text>`+"\n", plotR+16, ly+20, xmlText(fmt.Sprintf("last good %s msg/s", trimFloat(math.Round(run.Report.LastGoodRate)))))
		ly += 30
		for _, pc := range []string{"p50", "p90", "p99"} {
			name := pc + " " + run.Label
			var pts []string
			var marks strings.Builder
			for _, s := range run.Report.Steps {
				v := percentileOf(s, pc)
				if !s.Complete || s.Received == 0 {
					continue
				}
				px, py := x(s.TargetRate), y(v)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
				fill := percentileColors[pc]
				if !s.Good {
					fill = "white"
				}
				fmt.Fprintf(&marks, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s" stroke="%s"/>`, px, py, fill, percentileColors[pc])
			}
			fmt.Fprintf(&b, `<g class="series" data-series="%s"><title>%s</title>`, xmlText(name), xmlText(name))
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>%s</g>`+"\n",
				percentileColors[pc], dash, strings.Join(pts, " "), marks.String())
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`, plotR+16, plotR+46, ly, ly, percentileColors[pc], dash)
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", plotR+54, ly+4, pc)
			ly += 18
		}
		ly += 12
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// chartRanges are the x range (0..xMax msg/s), the y range (ms, whole
// decades) and the p99 limit of the runs.
func chartRanges(runs []chartRun) (xMax, yMin, yMax, limit float64) {
	lo, hi := math.Inf(1), 0.0
	for _, r := range runs {
		limit = max(limit, r.Report.P99LimitMS)
		for _, s := range r.Report.Steps {
			xMax = max(xMax, s.TargetRate)
			for _, v := range []float64{s.P50MS, s.P90MS, s.P99MS} {
				if v > 0 {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	hi = max(hi, limit)
	yMin = math.Pow(10, math.Floor(math.Log10(max(lo, 0.01))))
	yMax = math.Pow(10, math.Ceil(math.Log10(hi)))
	if yMax <= yMin {
		yMax = yMin * 10
	}
	step := niceStep(max(xMax, 1) / 8)
	return math.Ceil(max(xMax, 1)*1.05/step) * step, yMin, yMax, limit
}

func percentileOf(s stepResult, pc string) float64 {
	switch pc {
	case "p50":
		return s.P50MS
	case "p90":
		return s.P90MS
	}
	return s.P99MS
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// trimFloat formats an axis value: whole numbers without decimals, small
// ones with as few as they need.
func trimFloat(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%.0f", v)
	}
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

func orDash(d, def string) string {
	if d == "" {
		return def
	}
	return d
}

// xmlText escapes s for XML text and attribute values.
func xmlText(s string) string { return xmlEscaper.Replace(s) }

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
