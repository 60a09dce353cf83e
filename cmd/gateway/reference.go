package main

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

//go:generate go run . config reference -o ../../config/reference.yaml

const referenceHeader = `# Every configuration key of ` + "`gateway serve`" + `, with its default.
# Generated from the declarations in cmd/gateway/config.go by
#   go run ./cmd/gateway config reference > config/reference.yaml
# (or go generate ./cmd/gateway): edit those, not this file.
#
# Each key can be overridden by an environment variable: GATEWAY_ + the key
# in upper case with dots turned into underscores (redis.db -> GATEWAY_REDIS_DB).
# The secrets can also be read from a file named by GATEWAY_<NAME>_FILE.
# Order of precedence: environment > this file (-config) > built-in default.
# A bad value stops start-up with a message naming the key and its variable;
# gateway config check lists every one.
`

// referenceWidth is where the comments of config/reference.yaml wrap.
const referenceWidth = 78

// referenceYAML is config/reference.yaml: every setting with its doc, its
// variable and rules, and its default, grouped by section.
func referenceYAML() []byte {
	var b bytes.Buffer
	b.WriteString(referenceHeader)
	defaults := defaultTexts()
	section := ""
	for i, s := range settings {
		indent := ""
		if s.section() != "" {
			indent = "  "
		}
		if i == 0 || s.section() != section || s.section() == "" {
			b.WriteString("\n")
			if s.section() != "" && s.section() != section {
				fmt.Fprintf(&b, "%s:\n", s.section())
			}
			section = s.section()
		}
		for _, line := range wrap(s.doc(), referenceWidth-len(indent)-2) {
			fmt.Fprintf(&b, "%s# %s\n", indent, line)
		}
		fmt.Fprintf(&b, "%s# %s\n", indent, s.rules())
		fmt.Fprintf(&b, "%s%s: %s\n", indent, s.name(), s.yamlValue(defaults[s.key]))
	}
	return b.Bytes()
}

// rules is the reference's line about a setting's variables and what
// values it takes.
func (s setting) rules() string {
	parts := []string{s.env()}
	if s.fileVariable() {
		parts[0] += " or " + s.fileEnv()
	}
	if r := s.rangeText(); r != "" {
		parts = append(parts, "an integer"+r)
	}
	if oneof, ok := s.tag.Lookup("oneof"); ok {
		parts = append(parts, "one of "+strings.Join(strings.Fields(oneof), ", "))
	}
	if s.tag.Get("required") == "true" {
		parts = append(parts, "required")
	}
	return strings.Join(parts, "; ")
}

// yamlValue writes a setting's text as a YAML value: numbers and booleans
// bare, anything else quoted.
func (s setting) yamlValue(text string) string {
	if s.typ != durationType {
		switch s.typ.Kind() {
		case reflect.Int, reflect.Int64, reflect.Bool:
			return text
		}
	}
	return strconv.Quote(text)
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
