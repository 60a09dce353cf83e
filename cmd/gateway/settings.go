package main

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// setting is one configuration key: a leaf field of Config and its tags.
type setting struct {
	key   string       // dotted key, e.g. redis.db
	index []int        // the field's index path in Config
	typ   reflect.Type // the field's type
	tag   reflect.StructTag
}

// settings are Config's keys in declaration order.
var settings = collectSettings(reflect.TypeFor[Config](), "", nil)

// collectSettings walks the fields of a section struct t: struct-typed
// fields are sections, any other field is a setting.
func collectSettings(t reflect.Type, prefix string, index []int) []setting {
	var out []setting
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("koanf")
		if name == "" {
			panic(fmt.Sprintf("config: field %s.%s has no koanf tag", t.Name(), f.Name))
		}
		idx := append(slices.Clone(index), i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, collectSettings(f.Type, prefix+name+".", idx)...)
			continue
		}
		out = append(out, setting{key: prefix + name, index: idx, typ: f.Type, tag: f.Tag})
	}
	return out
}

// settingFor returns the setting of key.
func settingFor(key string) (setting, bool) {
	i := slices.IndexFunc(settings, func(s setting) bool { return s.key == key })
	if i < 0 {
		return setting{}, false
	}
	return settings[i], true
}

// EnvName is the environment variable that overrides key: GATEWAY_ + the
// key upper-cased with dots as underscores (redis.db -> GATEWAY_REDIS_DB).
func EnvName(key string) string {
	return "GATEWAY_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys returns every configuration key, sorted.
func Keys() []string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	slices.Sort(keys)
	return keys
}

// EnvNames returns every environment variable the configuration reads,
// sorted: each key's, and the _FILE variable of each secret.
func EnvNames() []string {
	var names []string
	for _, s := range settings {
		names = append(names, s.env())
		if s.fileVariable() {
			names = append(names, s.fileEnv())
		}
	}
	slices.Sort(names)
	return names
}

func (s setting) env() string { return EnvName(s.key) }

// fileEnv is the variable naming a file that holds the value of a secret.
func (s setting) fileEnv() string { return s.env() + "_FILE" }

// fileVariable reports whether the setting may be read from fileEnv.
func (s setting) fileVariable() bool { return s.tag.Get("secret") == "true" }

func (s setting) doc() string { return s.tag.Get("doc") }

// field returns the setting's field in c.
func (s setting) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(s.index)
}

// section is the part of the key before its last dot ("" at the top level).
func (s setting) section() string {
	i := strings.LastIndexByte(s.key, '.')
	if i < 0 {
		return ""
	}
	return s.key[:i]
}

// name is the part of the key after its last dot.
func (s setting) name() string { return s.key[strings.LastIndexByte(s.key, '.')+1:] }
