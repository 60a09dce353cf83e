package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// Source is where a setting's value came from.
type Source string

// The sources of a value, from the weakest.
const (
	SourceDefault    Source = "default"     // the declaration in Config
	SourceFile       Source = "file"        // the YAML file given with -config
	SourceEnv        Source = "env"         // the setting's GATEWAY_* variable
	SourceSecretFile Source = "secret_file" // the file named by GATEWAY_<NAME>_FILE
)

// Loaded is what Load read: the configuration, and each key's text and
// where it came from.
type Loaded struct {
	Config  *Config           // nil when the values do not make a valid configuration
	Texts   map[string]string // key -> the value as text, before parsing
	Sources map[string]Source // key -> where Texts[key] came from
}

// LoadConfig reads path (may be "") and the environment through getenv:
// Load without the sources.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	l, err := Load(path, getenv)
	if err != nil {
		return nil, err
	}
	return l.Config, nil
}

// Load reads the defaults, then the YAML file at path (none when ""), then
// the GATEWAY_* variables through getenv (an empty variable is unset), each
// overriding the one before. Every problem is reported in one error, each
// naming its key and variable. The Loaded is returned even then, without a
// Config, for `config print`.
func Load(path string, getenv func(string) string) (*Loaded, error) {
	l := &Loaded{Texts: defaultTexts(), Sources: map[string]Source{}}
	for key := range l.Texts {
		l.Sources[key] = SourceDefault
	}
	p := &problems{failed: map[string]bool{}}
	if path != "" {
		if err := l.readFile(path, p); err != nil {
			return l, err
		}
	}
	l.readEnv(getenv, p)
	c := l.parse(p)
	c.validate(p)
	if p.ok("auth.mode", "jwt.secret", "jwt.public_key_file", "jwt.jwks_file") {
		if err := c.resolveAuth(); err != nil {
			p.errs = append(p.errs, err)
		}
	}
	if len(p.errs) > 0 {
		return l, errors.Join(p.errs...)
	}
	l.Config = c
	return l, nil
}

// defaultTexts returns each key's default as text: its default tag, or the
// value packageDefaults gives it, or "".
func defaultTexts() map[string]string {
	var pkg Config
	packageDefaults(&pkg)
	texts := make(map[string]string, len(settings))
	for _, s := range settings {
		if d, ok := s.tag.Lookup("default"); ok {
			texts[s.key] = d
		} else if f := s.field(&pkg); !f.IsZero() {
			texts[s.key] = formatValue(f)
		} else {
			texts[s.key] = ""
		}
	}
	return texts
}

// readFile overlays the YAML file at path. A file that does not load is an
// error of its own; its unknown keys are problems.
func (l *Loaded) readFile(path string, p *problems) error {
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for _, key := range k.Keys() {
		if _, ok := settingFor(key); !ok {
			hint := fmt.Sprintf(" (known keys: %s)", strings.Join(Keys(), ", "))
			if near := closest(key, Keys(), ""); near != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", near)
			}
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

// readEnv overlays the GATEWAY_* variables, and for the secrets the files
// their GATEWAY_<NAME>_FILE variables name.
func (l *Loaded) readEnv(getenv func(string) string, p *problems) {
	for _, s := range settings {
		v := getenv(s.env())
		if s.fileVariable() && getenv(s.fileEnv()) != "" {
			if v != "" {
				p.add(s.key, "both %s and %s are set; set one of them", s.env(), s.fileEnv())
				continue
			}
			secret, err := readSecretFile(getenv(s.fileEnv()))
			if err != nil {
				p.failed[s.key] = true
				p.errs = append(p.errs, fmt.Errorf("config %s (%s): %v", s.key, s.fileEnv(), err))
				continue
			}
			l.Texts[s.key], l.Sources[s.key] = secret, SourceSecretFile
		} else if v != "" {
			l.Texts[s.key], l.Sources[s.key] = v, SourceEnv
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

// parse turns the texts into a Config, adding a problem for each bad value.
func (l *Loaded) parse(p *problems) *Config {
	c := &Config{}
	for _, s := range settings {
		if p.failed[s.key] {
			continue
		}
		v, bad := s.parse(l.Texts[s.key])
		for _, msg := range bad {
			p.add(s.key, "%s", msg)
		}
		if len(bad) == 0 {
			s.field(c).Set(v.Convert(s.typ))
		}
	}
	return c
}
