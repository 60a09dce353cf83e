// Command gen (make protocol) writes the tables of package protocol into
// the files that repeat them for other readers, under the repository root
// given as its argument (default the current directory): docs/protocol.md,
// the JavaScript client and its types, and the test vectors that hold the
// JavaScript client to the same decisions as the Go one. Each table sits
// between two marker lines in its file; everything else in those files is
// left alone.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/houseview/gateway/pkg/protocol"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	if err := write(root); err != nil {
		fmt.Fprintln(os.Stderr, "protocol tables:", err)
		os.Exit(1)
	}
}

// block is a generated part of a file: the text between the line holding
// begin and the line holding end, or the whole file without them.
type block struct {
	file       string // relative to the repository root
	begin, end string
	text       func() string
}

var blocks = []block{
	{"docs/protocol.md", "<!-- protocol:close-codes -->", "<!-- /protocol:close-codes -->", closeCodesMarkdown},
	{"docs/protocol.md", "<!-- protocol:handshake -->", "<!-- /protocol:handshake -->", handshakeMarkdown},
	{"docs/protocol.md", "<!-- protocol:frame-costs -->", "<!-- /protocol:frame-costs -->", frameCostsMarkdown},
	{"web/gateway-client.js", "// <protocol:tables>", "// </protocol:tables>", jsTables},
	{"web/gateway-client.d.ts", "// <protocol:types>", "// </protocol:types>", tsTypes},
	{"web/test/protocol-vectors.json", "", "", vectors},
}

// generate returns what every generated file under root should hold.
func generate(root string) (map[string]string, error) {
	out := map[string]string{}
	for _, b := range blocks {
		if b.begin == "" {
			out[b.file] = b.text()
			continue
		}
		content, ok := out[b.file]
		if !ok {
			old, err := os.ReadFile(filepath.Join(root, b.file))
			if err != nil {
				return nil, err
			}
			content = string(old)
		}
		i := strings.Index(content, b.begin)
		j := strings.Index(content, b.end)
		if i < 0 || j < i {
			return nil, fmt.Errorf("%s: no %q ... %q block", b.file, b.begin, b.end)
		}
		i += len(b.begin)
		out[b.file] = content[:i] + "\n" + b.text() + content[j:]
	}
	return out, nil
}

// write regenerates every generated file under root.
func write(root string) error {
	files, err := generate(root)
	if err != nil {
		return err
	}
	for file, content := range files {
		if err := os.WriteFile(filepath.Join(root, file), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

var adviceText = map[protocol.Advice]string{
	protocol.Resume:     "reconnect after the backoff, with its position",
	protocol.ResumeNow:  "reconnect at once (the next URL), with its position",
	protocol.FreshToken: "reconnect at once with a fresh token and its position (stop without a token source)",
	protocol.ResumeLate: "reconnect after the advised `max_ms`, with its position",
	protocol.Stop:       "not reconnect",
}

func closeCodesMarkdown() string {
	var b strings.Builder
	b.WriteString("| code | name | close text | meaning | the client should |\n| --- | --- | --- | --- | --- |\n")
	for _, c := range protocol.CloseCodes {
		reason := "(none)"
		if c.Reason != "" {
			reason = "`" + c.Reason + "`"
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s |\n", c.Code, c.Name, reason, c.Meaning, adviceText[c.Advice])
	}
	return b.String()
}

func handshakeMarkdown() string {
	var b strings.Builder
	b.WriteString("| status | meaning | the client should |\n| --- | --- | --- |\n")
	for _, s := range protocol.HandshakeStatuses {
		what := "not retry"
		switch {
		case s.Retry:
			what = "retry after the backoff (or `Retry-After` when longer)"
		case s.TokenRetry:
			what = "retry with a new token from its token source; stop with a fixed token"
		}
		fmt.Fprintf(&b, "| %d | %s | %s |\n", s.Status, s.Meaning, what)
	}
	return b.String()
}

func frameCostsMarkdown() string {
	var b strings.Builder
	b.WriteString("| client frame | counted against `limits.client_frames_per_second` | |\n| --- | --- | --- |\n")
	for _, f := range protocol.FrameCosts {
		counted := "yes"
		if f.Free {
			counted = "no"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", f.Frame, counted, f.Note)
	}
	return b.String()
}

func jsTables() string {
	var b strings.Builder
	b.WriteString("// Generated from pkg/protocol (make protocol): do not edit.\n")
	b.WriteString("/** Every close code: its name, the close frame's text, what a client does, and whether it is reported as an error. */\n")
	b.WriteString("export const CLOSE_CODES = Object.freeze({\n")
	for _, c := range protocol.CloseCodes {
		fmt.Fprintf(&b, "  %d: Object.freeze({ name: %s, reason: %s, advice: %s, error: %t }),\n",
			c.Code, js(c.Name), js(c.Reason), js(string(c.Advice)), c.Error)
	}
	b.WriteString("});\n")
	b.WriteString("/** Refused handshakes: retry after the backoff, retry only with a token source, or stop. */\n")
	b.WriteString("export const HANDSHAKE_STATUSES = Object.freeze({\n")
	for _, s := range protocol.HandshakeStatuses {
		fmt.Fprintf(&b, "  %d: Object.freeze({ retry: %t, tokenRetry: %t }),\n", s.Status, s.Retry, s.TokenRetry)
	}
	b.WriteString("});\n")
	d := protocol.DefaultReconnect
	fmt.Fprintf(&b, "const DEFAULT_ADVICE = Object.freeze({ base_ms: %d, max_ms: %d, jitter: %g });\n", d.BaseMS, d.MaxMS, d.Jitter)
	fmt.Fprintf(&b, "const REFRESH_LEAD_MS = %d;\n", protocol.RefreshLead.Milliseconds())
	fmt.Fprintf(&b, "const MIN_REFRESH_LEFT_MS = %d;\n", protocol.MinRefreshLeft.Milliseconds())
	return b.String()
}

func tsTypes() string {
	var b strings.Builder
	b.WriteString("// Generated from pkg/protocol (make protocol): do not edit.\n")
	b.WriteString("/**\n * A close code the gateway sends (and 1006: no close frame):\n")
	for _, c := range protocol.CloseCodes {
		fmt.Fprintf(&b, " * - %d `%s`: %s; %s.\n", c.Code, c.Name, stripMarkdown(c.Meaning), adviceText[c.Advice])
	}
	b.WriteString(" */\nexport type CloseCode =")
	for i, c := range protocol.CloseCodes {
		if i > 0 {
			b.WriteString(" |")
		}
		fmt.Fprintf(&b, " %d", c.Code)
	}
	b.WriteString(";\n")
	b.WriteString("/** What a client does after a close code. */\nexport type CloseAdvice =")
	seen := map[protocol.Advice]bool{}
	first := true
	for _, c := range protocol.CloseCodes {
		if seen[c.Advice] {
			continue
		}
		seen[c.Advice] = true
		if !first {
			b.WriteString(" |")
		}
		first = false
		fmt.Fprintf(&b, " '%s'", c.Advice)
	}
	b.WriteString(";\n")
	b.WriteString("export interface CloseCodeInfo {\n  name: string;\n  reason: string;\n  advice: CloseAdvice;\n  error: boolean;\n}\n")
	b.WriteString("/** Every close code: its name, the close frame's text, what a client does. */\nexport const CLOSE_CODES: Readonly<Record<CloseCode, Readonly<CloseCodeInfo>>>;\n")
	b.WriteString("/** Refused handshakes by HTTP status: retry after the backoff, retry only with a token source, or stop. */\n")
	b.WriteString("export const HANDSHAKE_STATUSES: Readonly<Record<number, Readonly<{ retry: boolean; tokenRetry: boolean }>>>;\n")
	return b.String()
}

// vector is one decision or refresh case, shared by both clients' tests.
type vector struct {
	Attempt  map[string]any `json:"attempt,omitempty"`
	Decision map[string]any `json:"decision,omitempty"`
	Refresh  map[string]any `json:"refresh,omitempty"`
}

// vectors are Decide and RefreshDelay over a grid of inputs, for the
// JavaScript client's tests to check its decide and refresh timing against.
func vectors() string {
	var out []vector
	advice := protocol.Reconnect{BaseMS: 100, MaxMS: 5000, Jitter: 0.5}
	codes := []int{1000, 1001, 1006, 1009, 1013, 4000, 4001, 4002, 4003, 4008, 4029, 4999}
	for _, code := range codes {
		for _, open := range []bool{false, true} {
			for _, tokens := range []bool{false, true} {
				for _, attempts := range []int{0, 3, 12} {
					a := protocol.Attempt{Code: code, WasOpen: open, Attempts: attempts, Advice: advice, TokenSource: tokens, Random: 0.25}
					out = append(out, decision(a))
				}
			}
		}
	}
	for _, status := range []int{400, 401, 403, 404, 429, 500, 503} {
		for _, tokens := range []bool{false, true} {
			a := protocol.Attempt{Code: protocol.CloseAbnormal, Status: status, Attempts: 2, Advice: advice, TokenSource: tokens,
				Random: 0.75, RetryAfter: 3 * time.Second}
			out = append(out, decision(a))
		}
	}
	now := time.Unix(1_800_000_000, 0)
	for _, left := range []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 10 * time.Second,
		12 * time.Second, time.Minute, time.Hour} {
		d, ok := protocol.RefreshDelay(now, now.Add(left), 0)
		out = append(out, vector{Refresh: map[string]any{"left_ms": left.Milliseconds(), "ok": ok, "delay_ms": d.Milliseconds()}})
	}
	b, _ := json.MarshalIndent(out, "", " ")
	return string(b) + "\n"
}

func decision(a protocol.Attempt) vector {
	d := protocol.Decide(a)
	return vector{
		Attempt: map[string]any{"code": a.Code, "status": a.Status, "retry_after_ms": a.RetryAfter.Milliseconds(),
			"was_open": a.WasOpen, "attempts": a.Attempts, "advice": a.Advice, "token_source": a.TokenSource, "random": a.Random},
		Decision: map[string]any{"reconnect": d.Reconnect, "delay_ms": d.Delay.Milliseconds()},
	}
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func stripMarkdown(s string) string {
	s = strings.ReplaceAll(s, "`", "")
	if i := strings.Index(s, " (see ["); i >= 0 {
		s = s[:i]
	}
	return s
}
