package config

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Unknown is a variable with the schema's prefix that no setting reads:
// most likely a misspelt one, whose value is silently ignored.
type Unknown struct {
	Name       string
	Suggestion string // the closest known variable, or ""
}

func (u Unknown) String() string {
	s := fmt.Sprintf("unknown environment variable %s is ignored", u.Name)
	if u.Suggestion != "" {
		s += fmt.Sprintf("; did you mean %s?", u.Suggestion)
	}
	return s
}

// LogUnknown logs each of unknown as a warning.
func LogUnknown(log *slog.Logger, unknown []Unknown) {
	for _, u := range unknown {
		attrs := []any{"name", u.Name}
		if u.Suggestion != "" {
			attrs = append(attrs, "did_you_mean", u.Suggestion)
		}
		log.Warn("unknown environment variable is ignored", attrs...)
	}
}

// Unknown returns the variables of environ (NAME=value entries, as
// os.Environ returns) that have the schema's prefix but that no setting
// reads, sorted by name, each with the closest known variable.
func (s *Schema[T]) Unknown(environ []string) []Unknown {
	known := s.EnvNames()
	var names []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, s.prefix) && !slices.Contains(known, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var out []Unknown
	for _, name := range slices.Compact(names) {
		u := Unknown{Name: name}
		if near := closest(strings.TrimPrefix(name, s.prefix), known, s.prefix); near != "" {
			u.Suggestion = s.prefix + near
		}
		out = append(out, u)
	}
	return out
}

// closest returns the candidate nearest to word in edit distance, with
// prefix removed from the candidates, or "" when none is near enough to be
// a likely misspelling.
func closest(word string, candidates []string, prefix string) string {
	best, bestDist := "", max(2, len(word)/3)+1
	for _, c := range candidates {
		c = strings.TrimPrefix(c, prefix)
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b: the fewest
// byte insertions, deletions and substitutions that turn a into b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
