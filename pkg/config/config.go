// Package config reads a program's configuration, declared once as the
// fields of a struct: defaults, then a YAML file, then environment
// variables (and, for secrets, files that variables name). Every problem is
// reported at once, each naming its key and variable. It also lists the
// variables no setting reads, prints each value with where it came from,
// and writes a reference YAML file of every setting.
//
// Each leaf field of the struct is one setting; a struct-typed field is a
// section. The field's tags:
//
//	key       its name; the setting's key is the names of its sections and
//	          its own, joined with dots (redis.db)
//	doc       its description in the reference file
//	min, max  the range of an integer (both required on integers); min "0"
//	          on a duration allows 0, else a duration must be positive
//	oneof     the values a string may take (case-insensitive)
//	required  "true": the value may not be empty
//	check     "hostport": host:port with a port from 0 to 65535 (each item
//	          of a list); "http_url": an http or https URL with a host,
//	          such as the tag example gives (empty passes either check)
//	secret    "true": redacted by Print, and readable from the file named
//	          by the variable + _FILE; "dsn": only the password of a
//	          go-sql-driver DSN is redacted; "url": only a URL's password
//	          and query values are
//
// Defaults are not tags: they are the value the Schema's defaults function
// returns, so that a default another package owns is written once, there.
// Besides strings, integers, booleans, durations, lists of strings,
// durations and IP prefixes, "name:n" maps and *time.Location, a setting
// may have any type whose pointer is an encoding.TextUnmarshaler (and that
// formats back to the same text with String).
package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Schema is the settings of the configuration struct T.
type Schema[T any] struct {
	prefix   string
	defaults func() T
	validate func(*T, *Problems)
	settings []setting
}

// New returns the Schema of T. Its variables are prefix + the key
// upper-cased with dots as underscores (prefix GATEWAY_: redis.db ->
// GATEWAY_REDIS_DB). defaults returns the default configuration; validate
// checks the rules no tag expresses, on values that parsed, and may fill in
// derived values. It panics when T declares a setting it cannot read.
func New[T any](prefix string, defaults func() T, validate func(*T, *Problems)) *Schema[T] {
	s := &Schema[T]{prefix: prefix, defaults: defaults, validate: validate}
	s.settings = collect(reflect.TypeFor[T](), "", nil)
	for _, st := range s.settings {
		if !parsable(st.typ) {
			panic(fmt.Sprintf("config: %s has unsupported type %s", st.key, st.typ))
		}
	}
	return s
}

// setting is one configuration key: a leaf field of T and its tags.
type setting struct {
	key   string       // dotted key, e.g. redis.db
	index []int        // the field's index path in T
	typ   reflect.Type // the field's type
	tag   reflect.StructTag
}

// collect walks the fields of a section struct t: struct-typed fields are
// sections, any other field is a setting.
func collect(t reflect.Type, prefix string, index []int) []setting {
	var out []setting
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("key")
		if name == "" {
			panic(fmt.Sprintf("config: field %s.%s has no key tag", t.Name(), f.Name))
		}
		idx := append(slices.Clone(index), i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, collect(f.Type, prefix+name+".", idx)...)
			continue
		}
		out = append(out, setting{key: prefix + name, index: idx, typ: f.Type, tag: f.Tag})
	}
	return out
}

func (st setting) field(c any) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(st.index)
}

func (st setting) fileVariable() bool { return st.tag.Get("secret") == "true" }

// section is the part of the key before its last dot ("" at the top level).
func (st setting) section() string {
	i := strings.LastIndexByte(st.key, '.')
	if i < 0 {
		return ""
	}
	return st.key[:i]
}

func (st setting) name() string { return st.key[strings.LastIndexByte(st.key, '.')+1:] }

func (s *Schema[T]) lookup(key string) (setting, bool) {
	i := slices.IndexFunc(s.settings, func(st setting) bool { return st.key == key })
	if i < 0 {
		return setting{}, false
	}
	return s.settings[i], true
}

// EnvName is the environment variable of key.
func (s *Schema[T]) EnvName(key string) string {
	return s.prefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func (s *Schema[T]) fileEnv(key string) string { return s.EnvName(key) + "_FILE" }

// Keys returns every key, sorted.
func (s *Schema[T]) Keys() []string {
	keys := make([]string, len(s.settings))
	for i, st := range s.settings {
		keys[i] = st.key
	}
	slices.Sort(keys)
	return keys
}

// EnvNames returns every variable the configuration reads, sorted: each
// key's, and the _FILE variable of each secret.
func (s *Schema[T]) EnvNames() []string {
	var names []string
	for _, st := range s.settings {
		names = append(names, s.EnvName(st.key))
		if st.fileVariable() {
			names = append(names, s.fileEnv(st.key))
		}
	}
	slices.Sort(names)
	return names
}

// DefaultTexts returns each key's default as the text it is read from.
func (s *Schema[T]) DefaultTexts() map[string]string {
	d := s.defaults()
	texts := make(map[string]string, len(s.settings))
	for _, st := range s.settings {
		texts[st.key] = format(st.field(&d))
	}
	return texts
}

// Problems collects what is wrong with a configuration.
type Problems struct {
	errs   []error
	failed map[string]bool // keys with a problem
	env    func(key string) string
	used   func(key string) bool // nil: every key counts
}

// Add records a problem with key's value, naming key and its variable.
func (p *Problems) Add(key, format string, args ...any) {
	p.addAt(key, p.env(key), format, args...)
}

// addAt records a problem with key's value read from the variable env.
func (p *Problems) addAt(key, env, format string, args ...any) {
	p.failed[key] = true
	if p.used != nil && !p.used(key) {
		return
	}
	p.errs = append(p.errs, fmt.Errorf("config %s (%s): %s", key, env, fmt.Sprintf(format, args...)))
}

// OK reports whether none of keys has a problem yet: rules about several
// keys are only checked on values that parsed.
func (p *Problems) OK(keys ...string) bool {
	for _, k := range keys {
		if p.failed[k] {
			return false
		}
	}
	return true
}
