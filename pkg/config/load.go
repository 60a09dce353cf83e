package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// Source is where a setting's value came from.
type Source string

// The sources of a value, from the weakest.
const (
	SourceDefault    Source = "default"     // the defaults function
	SourceFile       Source = "file"        // the YAML file
	SourceEnv        Source = "env"         // the setting's variable
	SourceSecretFile Source = "secret_file" // the file named by the variable + _FILE
)

// Loaded is what Load read: the configuration, and each key's text and
// where it came from.
type Loaded[T any] struct {
	Config  *T                // nil when the values do not make a valid configuration
	Texts   map[string]string // key -> the value as text, before parsing
	Sources map[string]Source // key -> where Texts[key] came from
}

// Load reads the defaults, then the YAML file at path (none when ""), then
// the variables through getenv (an empty variable is unset), each
// overriding the one before, and validates the result. Every problem is
// reported in one error, each naming its key and variable. The Loaded is
// returned even then, without a Config, for Print.
func (s *Schema[T]) Load(path string, getenv func(string) string) (*Loaded[T], error) {
	return s.load(path, getenv, nil)
}

// LoadKeys is Load for a command that uses only the settings whose keys
// start with one of prefixes ("jwt.", "mysql."): a problem with any other
// key, and the rules between keys, do not stop it (an unknown key in the
// file still does). The settings it does not use keep what was read.
func (s *Schema[T]) LoadKeys(path string, getenv func(string) string, prefixes ...string) (*T, error) {
	l, err := s.load(path, getenv, func(key string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(key, p) })
	})
	return l.Config, err
}

// load is Load; with used set, only the problems of the keys it reports
// count, and the rules between keys are not checked.
func (s *Schema[T]) load(path string, getenv func(string) string, used func(key string) bool) (*Loaded[T], error) {
	l := &Loaded[T]{Texts: s.DefaultTexts(), Sources: map[string]Source{}}
	for key := range l.Texts {
		l.Sources[key] = SourceDefault
	}
	p := &Problems{failed: map[string]bool{}, env: s.EnvName, used: used}
	if path != "" {
		if err := s.readFile(l, path, p); err != nil {
			return l, err
		}
	}
	s.readEnv(l, getenv, p)
	c := s.defaults()
	for _, st := range s.settings {
		if l.Sources[st.key] == SourceDefault || p.failed[st.key] {
			continue
		}
		v, bad := st.parse(l.Texts[st.key])
		for _, msg := range bad {
			p.Add(st.key, "%s", msg)
		}
		if len(bad) == 0 {
			st.field(&c).Set(v.Convert(st.typ))
		}
	}
	if used == nil {
		s.validate(&c, p)
	}
	if len(p.errs) > 0 {
		return l, errors.Join(p.errs...)
	}
	l.Config = &c
	return l, nil
}

// LoadAll is Load for a program about to start work, given its whole
// environment (NAME=value entries): it also returns the variables that no
// setting reads. They are likely misspelt, so a likely cause of an invalid
// configuration: they end its error as warnings.
func (s *Schema[T]) LoadAll(path string, getenv func(string) string, environ []string) (*T, []Unknown, error) {
	unknown := s.Unknown(environ)
	l, err := s.Load(path, getenv)
	if err != nil {
		for _, u := range unknown {
			err = errors.Join(err, errors.New("warning: "+u.String()))
		}
	}
	return l.Config, unknown, err
}

// readFile overlays the YAML file at path. A file that does not load is an
// error of its own; its unknown keys are problems.
func (s *Schema[T]) readFile(l *Loaded[T], path string, p *Problems) error {
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for _, key := range k.Keys() {
		if _, ok := s.lookup(key); !ok {
			hint := s.unknownKeyHint(key)
			p.errs = append(p.errs, fmt.Errorf("config file %s: unknown key %q%s", path, key, hint))
			continue
		}
		l.Texts[key], l.Sources[key] = fileText(k.Get(key)), SourceFile
	}
	return nil
}

// fileText is a YAML value as a setting's text; a list is comma-separated.
func fileText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, item := range x {
			parts[i] = fmt.Sprint(item)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// readEnv overlays the variables, and for the secrets the files their
// _FILE variables name.
func (s *Schema[T]) readEnv(l *Loaded[T], getenv func(string) string, p *Problems) {
	for _, st := range s.settings {
		env, fileEnv := s.EnvName(st.key), s.fileEnv(st.key)
		v := getenv(env)
		switch {
		case st.fileVariable() && getenv(fileEnv) != "" && v != "":
			p.Add(st.key, "both %s and %s are set; set one of them", env, fileEnv)
		case st.fileVariable() && getenv(fileEnv) != "":
			secret, err := readSecretFile(getenv(fileEnv))
			if err != nil {
				p.addAt(st.key, fileEnv, "%v", err)
				continue
			}
			l.Texts[st.key], l.Sources[st.key] = secret, SourceSecretFile
		case v != "":
			l.Texts[st.key], l.Sources[st.key] = v, SourceEnv
		}
	}
}

// readSecretFile returns the trimmed content of a secret's file, as the
// official database images read their *_FILE variables (Docker and
// Kubernetes secrets are mounted as files).
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}

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

// CreateSecretFile writes size random bytes in hex to path, mode 0600,
// unless path exists: a file for a secret's _FILE variable. The file
// appears whole or not at all: it is written under a temporary name and
// linked into place, which fails when another process won.
func CreateSecretFile(path string, size int) (created bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		if strings.TrimSpace(string(b)) == "" {
			return false, fmt.Errorf("%s exists but is empty: remove it to have a new secret generated", path)
		}
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	raw := make([]byte, size)
	if _, err := rand.Read(raw); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*") // mode 0600
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil // written meanwhile by another process
		}
		return false, err
	}
	return true, nil
}

// unknownKeyHint helps with a key no setting has: the closest key, else
// the keys of its section, else where the keys are listed.
func (s *Schema[T]) unknownKeyHint(key string) string {
	if near := closest(key, s.Keys(), ""); near != "" {
		return fmt.Sprintf(" (did you mean %s?)", near)
	}
	section, _, nested := strings.Cut(key, ".")
	var same []string
	for _, k := range s.Keys() {
		if nested && strings.HasPrefix(k, section+".") {
			same = append(same, k)
		}
	}
	if len(same) > 0 {
		return fmt.Sprintf(" (the keys of %s: %s)", section, strings.Join(same, ", "))
	}
	return " (no key is close; the reference configuration lists them all)"
}
