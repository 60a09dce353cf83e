package config

import "fmt"

// Problems collects what is wrong with a configuration.
type Problems struct {
	errs   []error
	failed map[string]bool // keys with a problem
	env    func(key string) string
}

// Add records a problem with key's value, naming key and its variable.
func (p *Problems) Add(key, format string, args ...any) {
	p.addAt(key, p.env(key), format, args...)
}

// addAt records a problem with key's value read from the variable env.
func (p *Problems) addAt(key, env, format string, args ...any) {
	p.failed[key] = true
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
