package scenario

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/push"
)

var testCriteria = &rampConfig{p99Limit: 100 * time.Millisecond, minAchieved: 0.98}

func TestJudgeStep(t *testing.T) {
	good := stepResult{TargetRate: 1000, AchievedRate: 995, Planned: 10000, Accepted: 10000, Received: 10000, P99MS: 40, Complete: true}
	with := func(f func(*stepResult)) stepResult { s := good; f(&s); return s }
	tests := []struct {
		name string
		step stepResult
		want []string
	}{
		{"good", good, nil},
		{"p99 at the limit is good", with(func(s *stepResult) { s.P99MS = 100 }), nil},
		{"p99 over the limit", with(func(s *stepResult) { s.P99MS = 100.5 }), []string{"p99 100.5 ms > 100 ms"}},
		{"lost", with(func(s *stepResult) { s.Lost = 2 }), []string{"2 lost"}},
		{"duplicated", with(func(s *stepResult) { s.Duplicated = 1 }), []string{"1 duplicated"}},
		{"not accepted", with(func(s *stepResult) { s.Accepted, s.Unaccepted = 9990, 10 }), []string{"10 not accepted"}},
		{"achieved 98% is good", with(func(s *stepResult) { s.AchievedRate = 980 }), nil},
		{"achieved below 98%", with(func(s *stepResult) { s.AchievedRate = 979 }), []string{"achieved 979/s < 98% of 1000/s"}},
		{"everything", with(func(s *stepResult) { s.P99MS, s.Lost, s.Duplicated, s.AchievedRate = 300, 1, 1, 500 }),
			[]string{"p99 300.0 ms > 100 ms", "1 lost", "1 duplicated", "achieved 500/s < 98% of 1000/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, testCriteria.judge(tt.step)); diff != "" {
				t.Errorf("judge (-want +got):\n%s", diff)
			}
		})
	}
}

// liveStep is a step as the live judgement sees it.
type liveStep struct {
	Planned, Accepted, Failed int
	Achieved, Target          float64
	Received, Repeats, Late   int64
}

func TestJudgeLive(t *testing.T) {
	good := liveStep{Planned: 1000, Accepted: 1000, Received: 1000, Target: 1000, Achieved: 1000}
	with := func(f func(*liveStep)) liveStep { l := good; f(&l); return l }
	tests := []struct {
		name string
		step liveStep
		want []string
	}{
		{"good", good, nil},
		{"10 late of 1000 is p99 within the limit", with(func(l *liveStep) { l.Late = 10 }), nil},
		{"11 late of 1000 is p99 over it", with(func(l *liveStep) { l.Late = 11 }),
			[]string{"11 of 1000 messages later than 100ms or missing (p99 allows 10)"}},
		{"missing count as late", with(func(l *liveStep) { l.Received, l.Late = 995, 6 }),
			[]string{"11 of 1000 messages later than 100ms or missing (p99 allows 10)"}},
		{"repeats", with(func(l *liveStep) { l.Repeats = 1 }), []string{"1 repeated"}},
		{"failed requests", with(func(l *liveStep) { l.Failed, l.Accepted, l.Received = 5, 995, 995 }), []string{"5 not accepted"}},
		{"slow pusher", with(func(l *liveStep) { l.Achieved = 900 }), []string{"achieved 900/s < 98% of 1000/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.step
			st := push.StepPush{Plan: push.Step{Rate: l.Target, Messages: l.Planned, Length: time.Second}, Accepted: l.Accepted,
				Failed: l.Failed, InWindow: int(l.Achieved)} // achieved over a 1 s window
			got := testCriteria.judgeLive(st, clients.StepLive{Received: l.Received, Repeats: l.Repeats, Late: l.Late})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("judgeLive (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLastGood(t *testing.T) {
	step := func(rate float64, good, complete bool) stepResult {
		return stepResult{TargetRate: rate, Good: good, Complete: complete}
	}
	tests := []struct {
		name           string
		steps          []stepResult
		good, firstBad int
	}{
		{"no steps", nil, -1, -1},
		{"first bad", []stepResult{step(1000, false, true), step(1200, true, true)}, -1, 0},
		{"stops at the first bad", []stepResult{step(1000, true, true), step(1200, true, true), step(1440, false, true), step(1728, true, true)}, 1, 2},
		{"all good", []stepResult{step(1000, true, true), step(1200, true, true)}, 1, -1},
		{"an incomplete step ends it", []stepResult{step(1000, true, true), step(1200, false, false)}, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good, bad := lastGood(tt.steps)
			if good != tt.good || bad != tt.firstBad {
				t.Errorf("lastGood = %d, %d; want %d, %d", good, bad, tt.good, tt.firstBad)
			}
		})
	}
}

func TestJudgeStepsMarksIncompleteAndLiveBadSteps(t *testing.T) {
	steps := []stepResult{
		{TargetRate: 100, AchievedRate: 100, P99MS: 5, Complete: true},
		{TargetRate: 120, AchievedRate: 120, P99MS: 500, Complete: true},
		{TargetRate: 144, AchievedRate: 144, P99MS: 5, Complete: true}, // good by the merge, bad live
		{TargetRate: 173, Complete: false},
	}
	testCriteria.judgeSteps(steps, [][]string{nil, {"late"}, {"3 repeated"}})
	var got [][]string
	for _, s := range steps {
		if s.Good != (len(s.WhyBad) == 0) {
			t.Errorf("step %+v: good and its reasons disagree", s)
		}
		got = append(got, s.WhyBad)
	}
	want := [][]string{nil, {"p99 500.0 ms > 100 ms"}, {"live: 3 repeated"}, {"incomplete: the ramp stopped during the step"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("why bad (-want +got):\n%s", diff)
	}
}
