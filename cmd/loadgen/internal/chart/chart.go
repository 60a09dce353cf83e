// Package chart draws the load tool's SVG charts from its JSON lines: the
// latency percentiles of ramp runs against the offered rate, and a soak
// run's node resources over time.
package chart

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Ramp is what a chart reads of a ramp run's results.
type Ramp struct {
	Batch        int     `json:"batch"`
	P99LimitMS   float64 `json:"p99_limit_ms"`
	LastGoodRate float64 `json:"last_good_rate"`
	Steps        []struct {
		TargetRate float64 `json:"target_rate"`
		P50MS      float64 `json:"p50_ms"`
		P90MS      float64 `json:"p90_ms"`
		P99MS      float64 `json:"p99_ms"`
		Received   int     `json:"received"`
		Complete   bool    `json:"complete"`
		Good       bool    `json:"good"`
	} `json:"steps"`
}

// Soak is what a chart reads of a soak run's results.
type Soak struct {
	Users         int     `json:"users"`
	TargetRate    float64 `json:"target_rate"`
	ChurnEveryS   float64 `json:"churn_every_s"`
	ChurnFraction float64 `json:"churn_fraction"`
	Delivery      struct {
		Lost       int64 `json:"lost"`
		Duplicated int64 `json:"duplicated"`
	} `json:"delivery"`
	Samples []struct {
		AtS        float64   `json:"t_s"`
		RSSKB      []float64 `json:"rss_kb"`
		Goroutines []float64 `json:"goroutines"`
		OpenFiles  []float64 `json:"open_files"`
	} `json:"samples"`
}

// Run is "loadgen chart": an SVG of the latency percentiles of the ramp
// runs in a JSON-lines file against the offered rate, or, in a file
// without ramp runs, of the last soak run's node resources over time.
func Run(args []string, stdout io.Writer) error {
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
	defer f.Close()
	runs, soak, err := read(f)
	switch {
	case err != nil:
		return err
	case len(runs) > 0:
		err = writeRamp(runs, *out)
	case soak != nil:
		err = writeSoak(soak, *out)
	default:
		return fmt.Errorf("chart: no ramp or soak run in %s", *in)
	}
	if err == nil {
		fmt.Fprintf(stdout, "wrote %s\n", *out)
	}
	return err
}

// read reads the ramp runs of a JSON-lines file, in order, and its last
// soak run (nil if none).
func read(r io.Reader) (runs []Ramp, soak *Soak, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var rec struct {
			Scenario string          `json:"scenario"`
			Results  json.RawMessage `json:"results"`
		}
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line, err)
		}
		switch rec.Scenario {
		case "ramp":
			runs = append(runs, Ramp{})
			err = json.Unmarshal(rec.Results, &runs[len(runs)-1])
		case "soak":
			soak = &Soak{}
			err = json.Unmarshal(rec.Results, soak)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	return runs, soak, sc.Err()
}

// WriteSoak draws the results of a soak run (anything that marshals to
// its JSON) into path, as "loadgen chart" draws them from the JSON line.
func WriteSoak(results any, path string) error {
	b, err := json.Marshal(results)
	var soak Soak
	if err = errors.Join(err, json.Unmarshal(b, &soak)); err != nil {
		return err
	}
	return writeSoak(&soak, path)
}

var (
	percentileColors = []color.Color{color.RGBA{0x1b, 0x9e, 0x77, 255}, color.RGBA{0xd9, 0x5f, 0x02, 255}, color.RGBA{0x75, 0x70, 0xb3, 255}}
	runDashes        = [][]vg.Length{nil, {vg.Points(8), vg.Points(4)}, {vg.Points(2), vg.Points(3)}, {vg.Points(12), vg.Points(3), vg.Points(2), vg.Points(3)}}
	grey             = color.Gray{0x88}
)

// writeRamp draws p50, p90 and p99 (from the scheduled send, ms, log
// scale) against each step's offered rate, one line style per run
// (labelled by its batch), a hollow point for a bad step, the p99 limit and
// a vertical line at each run's last good rate.
func writeRamp(runs []Ramp, path string) error {
	p := plot.New()
	p.Title.Text = "Latency from the scheduled send against the offered rate (loadgen ramp)"
	p.X.Label.Text, p.Y.Label.Text = "offered rate (messages per second)", "latency, ms (log scale)"
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	lo, hi, xMax, limit, seen := math.Inf(1), 0.0, 0.0, 0.0, map[int]int{}
	for ri, run := range runs {
		limit = max(limit, run.P99LimitMS)
		label := fmt.Sprintf("batch %d", run.Batch)
		if seen[run.Batch]++; seen[run.Batch] > 1 {
			label = fmt.Sprintf("%s (run %d)", label, seen[run.Batch])
		}
		for pi, pc := range []string{"p50", "p90", "p99"} {
			var xys plotter.XYs
			var bad []bool
			for _, s := range run.Steps {
				if v := []float64{s.P50MS, s.P90MS, s.P99MS}[pi]; s.Complete && s.Received > 0 && v > 0 {
					lo, hi, xMax = min(lo, v), max(hi, v), max(xMax, s.TargetRate)
					xys, bad = append(xys, plotter.XY{X: s.TargetRate, Y: v}), append(bad, !s.Good)
				}
			}
			line, points, err := plotter.NewLinePoints(xys)
			if err != nil {
				continue // nothing to draw
			}
			line.Color, line.Width, line.Dashes = percentileColors[pi], vg.Points(2), runDashes[ri%len(runDashes)]
			points.GlyphStyleFunc = func(i int) draw.GlyphStyle {
				g := draw.GlyphStyle{Color: percentileColors[pi], Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
				if bad[i] {
					g.Shape = draw.RingGlyph{}
				}
				return g
			}
			p.Add(line, points)
			p.Legend.Add(fmt.Sprintf("%s %s, last good %.0f msg/s", pc, label, run.LastGoodRate), line)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	lo, hi = math.Pow(10, math.Floor(math.Log10(max(lo, 0.01)))), math.Pow(10, math.Ceil(math.Log10(max(hi, limit, lo*10))))
	p.Y.Min, p.Y.Max = lo, hi
	if limit > 0 {
		l := plotter.NewFunction(func(float64) float64 { return limit })
		l.Color, l.Dashes = color.RGBA{0xcc, 0, 0, 255}, []vg.Length{vg.Points(6), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("p99 limit %.0f ms", limit), l)
	}
	for ri, run := range runs {
		if l, err := plotter.NewLine(plotter.XYs{{X: run.LastGoodRate, Y: lo}, {X: run.LastGoodRate, Y: hi}}); err == nil && run.LastGoodRate > 0 {
			l.Color, l.Dashes = grey, runDashes[(ri+1)%len(runDashes)]
			p.Add(l)
		}
	}
	p.X.Min, p.X.Max, p.Legend.Top, p.Legend.Left, p.Legend.YOffs = 0, xMax*1.05, true, true, -vg.Points(6)
	return p.Save(12*vg.Inch, 7*vg.Inch, path)
}

// writeSoak draws each node's RSS, goroutines and open files against
// the minutes of the run, one panel each, from zero: flat lines are what a
// soak wants to see.
func writeSoak(r *Soak, path string) error {
	panels := []struct {
		title string
		value func(i, node int) float64
	}{
		{"RSS (MiB)", func(i, n int) float64 { return r.Samples[i].RSSKB[n] / 1024 }},
		{"goroutines", func(i, n int) float64 { return r.Samples[i].Goroutines[n] }},
		{"open files", func(i, n int) float64 { return r.Samples[i].OpenFiles[n] }},
	}
	plots := make([][]*plot.Plot, len(panels))
	for i, panel := range panels {
		p := plot.New()
		p.Title.Text, p.X.Label.Text, p.Y.Min, p.X.Min = panel.title, "minutes since the first push", 0, 0
		if i == 0 {
			p.Title.Text = fmt.Sprintf("Node resources over a soak run: %d users, %.0f msg/s, %.0f%% of the clients resume every %.0f s; lost %d, duplicated %d\n\n%s",
				r.Users, r.TargetRate, r.ChurnFraction*100, r.ChurnEveryS, r.Delivery.Lost, r.Delivery.Duplicated, panel.title)
		}
		for n := 0; len(r.Samples) > 0 && n < len(r.Samples[0].RSSKB); n++ {
			var xys plotter.XYs
			for i, s := range r.Samples {
				if v := panel.value(i, n); v >= 0 {
					xys = append(xys, plotter.XY{X: s.AtS / 60, Y: v})
				}
			}
			if l, err := plotter.NewLine(xys); err == nil {
				l.Color, l.Width = percentileColors[n%len(percentileColors)], vg.Points(2)
				p.Add(l)
				if len(r.Samples[0].RSSKB) > 1 {
					p.Legend.Add(fmt.Sprintf("node %d", n+1), l)
				}
			}
		}
		plots[i] = []*plot.Plot{p}
	}
	img := vgsvg.New(12*vg.Inch, 10*vg.Inch)
	canvases := plot.Align(plots, draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Millimeter * 6, PadTop: vg.Millimeter * 2}, draw.New(img))
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = img.WriteTo(f)
	return errors.Join(err, f.Close())
}
