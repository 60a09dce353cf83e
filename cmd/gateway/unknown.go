package main

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// unknownVariable is a GATEWAY_* variable that no setting reads: most
// likely a misspelt one, whose value is silently ignored.
type unknownVariable struct {
	Name       string
	Suggestion string // the closest known variable, or ""
}

func (u unknownVariable) String() string {
	s := fmt.Sprintf("unknown environment variable %s is ignored", u.Name)
	if u.Suggestion != "" {
		s += fmt.Sprintf("; did you mean %s?", u.Suggestion)
	}
	return s
}

// configForStart loads the configuration of a command that starts work, and
// the GATEWAY_* variables that no setting reads. A misspelt variable is a
// likely cause of an invalid configuration, so they are part of its error.
func configForStart(path string, getenv func(string) string, environ func() []string) (*Config, []unknownVariable, error) {
	unknown := unknownVariables(environ())
	cfg, err := LoadConfig(path, getenv)
	if err != nil {
		return nil, unknown, errors.Join(err, unknownError(unknown))
	}
	return cfg, unknown, nil
}

// warnUnknown logs the GATEWAY_* variables that no setting reads.
func warnUnknown(log *slog.Logger, unknown []unknownVariable) {
	for _, u := range unknown {
		attrs := []any{"name", u.Name}
		if u.Suggestion != "" {
			attrs = append(attrs, "did_you_mean", u.Suggestion)
		}
		log.Warn("unknown environment variable is ignored", attrs...)
	}
}

// unknownError lists the unknown variables as warnings (nil for none).
func unknownError(unknown []unknownVariable) error {
	var errs []error
	for _, u := range unknown {
		errs = append(errs, errors.New("warning: "+u.String()))
	}
	return errors.Join(errs...)
}

// unknownVariables returns the GATEWAY_* variables of environ (NAME=value
// entries, as os.Environ returns) that the configuration does not read,
// sorted by name.
func unknownVariables(environ []string) []unknownVariable {
	known := EnvNames()
	var out []unknownVariable
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "GATEWAY_") || slices.Contains(known, name) ||
			slices.ContainsFunc(out, func(u unknownVariable) bool { return u.Name == name }) {
			continue
		}
		u := unknownVariable{Name: name}
		if near := closest(strings.TrimPrefix(name, "GATEWAY_"), known, "GATEWAY_"); near != "" {
			u.Suggestion = "GATEWAY_" + near
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b unknownVariable) int { return strings.Compare(a.Name, b.Name) })
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
