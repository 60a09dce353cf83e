package main

import (
	"sync"
	"time"
)

// liveSteps counts what arrives of each schedule step, for the status
// lines.
type liveSteps struct {
	lateUS int64

	mu      sync.Mutex
	steps   map[int]*stepLive
	changed map[int]bool
}

func newLiveSteps(lateAfter time.Duration) *liveSteps {
	return &liveSteps{lateUS: lateAfter.Microseconds(), steps: map[int]*stepLive{}, changed: map[int]bool{}}
}

// add counts a message of step received fromSchedUS after its schedule.
func (s *liveSteps) add(step int, fromSchedUS int64, repeat bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.steps[step]
	if l == nil {
		l = &stepLive{Hist: histogram{}}
		s.steps[step] = l
	}
	s.changed[step] = true
	if repeat {
		l.Repeats++
		return
	}
	l.Received++
	if fromSchedUS > s.lateUS {
		l.Late++
	}
	if fromSchedUS >= 0 {
		l.Hist.add(fromSchedUS)
	}
}

// takeChanged returns copies of the steps that changed since the last call.
func (s *liveSteps) takeChanged() map[int]*stepLive {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.changed) == 0 {
		return nil
	}
	out := make(map[int]*stepLive, len(s.changed))
	for k := range s.changed {
		l := *s.steps[k]
		l.Hist = histogram{}
		l.Hist.merge(s.steps[k].Hist)
		out[k] = &l
	}
	clear(s.changed)
	return out
}
