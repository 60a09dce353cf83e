package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// soakPanel is one reading of the soak chart.
type soakPanel struct {
	title string
	unit  string
	value func(s soakSample, node int) float64 // NaN: unread
}

var soakPanels = []soakPanel{
	{"RSS", "MiB", func(s soakSample, n int) float64 { return nonNegative(float64(s.RSSKB[n]) / 1024) }},
	{"goroutines", "", func(s soakSample, n int) float64 { return nonNegative(float64(s.Goroutines[n])) }},
	{"open files", "", func(s soakSample, n int) float64 { return nonNegative(float64(s.OpenFiles[n])) }},
}

// nonNegative is v, or NaN for the -1 of a reading that failed.
func nonNegative(v float64) float64 {
	if v < 0 {
		return math.NaN()
	}
	return v
}

var nodeColors = []string{"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"}

// soakSVG draws each node's RSS, goroutines and open files against the
// minutes of the run, one panel each, from zero: flat lines are what a
// soak wants to see.
func soakSVG(r *soakReport) []byte {
	const (
		w, top, panelH, gap = 960, 80, 170, 50
		left, right         = 90, 900
	)
	h := top + len(soakPanels)*(panelH+gap) + 20
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="17" font-weight="bold">%s</text>`+"\n", left, xmlText("Node resources over a soak run (loadgen soak)"))
	fmt.Fprintf(&b, `<text x="%d" y="50" fill="#555">%s</text>`+"\n", left, xmlText(fmt.Sprintf(
		"%d users, %.0f msg/s, %.0f%% of the clients resume every %.0f s; lost %d, duplicated %d",
		r.Users, r.TargetRate, r.ChurnFraction*100, r.ChurnEveryS, r.Delivery.Lost, r.Delivery.Duplicated)))
	tMax := 0.0
	for _, s := range r.Samples {
		tMax = max(tMax, s.AtS/60)
	}
	if tMax <= 0 {
		tMax = 1
	}
	xStep := niceStep(tMax / 8)
	tMax = math.Ceil(tMax/xStep) * xStep
	x := func(min float64) float64 { return left + min/tMax*(right-left) }
	for pi, p := range soakPanels {
		pt := top + pi*(panelH+gap)
		pb := pt + panelH
		vMax := 0.0
		for _, s := range r.Samples {
			for n := range s.RSSKB {
				if v := p.value(s, n); !math.IsNaN(v) {
					vMax = max(vMax, v)
				}
			}
		}
		yStep := niceStep(max(vMax, 1) * 1.1 / 4)
		vTop := math.Ceil(max(vMax, 1)*1.1/yStep) * yStep
		y := func(v float64) float64 { return float64(pb) - v/vTop*panelH }
		for v := 0.0; v <= vTop+1e-9; v += yStep {
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, right, y(v), y(v))
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, trimFloat(v))
		}
		for t := 0.0; t <= tMax+1e-9; t += xStep {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(t), pb+16, strconv.FormatFloat(math.Round(t*1e6)/1e6, 'f', -1, 64))
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", left, pt, right-left, panelH)
		title := p.title
		if p.unit != "" {
			title += " (" + p.unit + ")"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left, pt-6, xmlText(title))
		if pi == len(soakPanels)-1 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">minutes since the first push</text>`+"\n", (left+right)/2, pb+34)
		}
		nodes := 0
		if len(r.Samples) > 0 {
			nodes = len(r.Samples[0].RSSKB)
		}
		for n := range nodes {
			var pts []string
			for _, s := range r.Samples {
				if v := p.value(s, n); !math.IsNaN(v) {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(s.AtS/60), y(v)))
				}
			}
			color := nodeColors[n%len(nodeColors)]
			name := fmt.Sprintf("%s node %d", p.title, n+1)
			fmt.Fprintf(&b, `<g class="series" data-series="%s"><title>%s</title><polyline fill="none" stroke="%s" stroke-width="2" points="%s"/></g>`+"\n",
				xmlText(name), xmlText(name), color, strings.Join(pts, " "))
			if nodes > 1 {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">node %d</text>`+"\n", right+8, pt+14+16*n, color, n+1)
			}
		}
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}
