package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// referenceWidth is where the comments of the reference file wrap.
const referenceWidth = 78

// Reference is the reference YAML file: header, then every setting with
// its doc, its variables and rules, and its default, grouped by section.
func (s *Schema[T]) Reference(header string) []byte {
	var b bytes.Buffer
	b.WriteString(header)
	defaults := s.DefaultTexts()
	section := ""
	for i, st := range s.settings {
		indent := ""
		if st.section() != "" {
			indent = "  "
		}
		if i == 0 || st.section() != section || st.section() == "" {
			b.WriteString("\n")
			if st.section() != "" && st.section() != section {
				fmt.Fprintf(&b, "%s:\n", st.section())
			}
			section = st.section()
		}
		for _, line := range wrap(st.tag.Get("doc"), referenceWidth-len(indent)-2) {
			fmt.Fprintf(&b, "%s# %s\n", indent, line)
		}
		fmt.Fprintf(&b, "%s# %s\n", indent, s.rules(st))
		fmt.Fprintf(&b, "%s%s: %s\n", indent, st.name(), yamlValue(st, defaults[st.key]))
	}
	return b.Bytes()
}

// rules is the reference's line about a setting's variables and what
// values it takes.
func (s *Schema[T]) rules(st setting) string {
	parts := []string{s.EnvName(st.key)}
	if st.fileVariable() {
		parts[0] += " or " + s.fileEnv(st.key)
	}
	if r := st.rangeText(); r != "" && st.typ != reflect.TypeFor[time.Duration]() {
		parts = append(parts, "an integer"+r)
	}
	if oneof, ok := st.tag.Lookup("oneof"); ok {
		parts = append(parts, "one of "+strings.Join(strings.Fields(oneof), ", "))
	}
	if st.tag.Get("required") == "true" {
		parts = append(parts, "required")
	}
	return strings.Join(parts, "; ")
}

// yamlValue writes a setting's text as a YAML value: numbers and booleans
// bare, anything else quoted.
func yamlValue(st setting, text string) string {
	if st.typ != reflect.TypeFor[time.Duration]() {
		switch st.typ.Kind() {
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
