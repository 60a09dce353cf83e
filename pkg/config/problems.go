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
	p.failed[key] = true
	p.errs = append(p.errs, fmt.Errorf("config %s (%s): %s", key, p.env(key), fmt.Sprintf(format, args...)))
}

// addError records err, a problem that already names its key, as one of key's.
func (p *Problems) addError(key string, err error) {
	p.failed[key] = true
	p.errs = append(p.errs, err)
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
