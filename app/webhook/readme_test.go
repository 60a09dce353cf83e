package webhook_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/webhook"
)

// snippetCase is one request a docs snippet (docs/api.md, Offline webhook) verifies.
type snippetCase struct {
	Name    string            `json:"name"`
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"` // lower-case names, as Node gives them
	Body    []byte            `json:"body"`    // base64 in JSON
}

// readmeSnippet returns the code block of lang under docs/api.md's
// "## Offline webhook".
func readmeSnippet(tb testing.TB, lang string) string {
	tb.Helper()
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Offline webhook\n.*?```" + lang + "\n(.*?)```").FindSubmatch(b)
	if m == nil {
		tb.Fatalf("docs/api.md has no %s block under ## Offline webhook", lang)
	}
	return string(m[1])
}

// snippetCases are a request the gateway really sent (captured by the
// receiver), and altered copies of it.
func snippetCases(tb testing.TB) ([]snippetCase, []bool) {
	tb.Helper()
	r := newRig(tb, rigOptions{})
	m := notification(tb, app.MsgReservationConfirmed, 1001, "预约已确认")
	r.publish(tb, m)
	sent := r.recv.wait(tb, 1)[0]
	headers := map[string]string{}
	for k := range sent.Header {
		headers[strings.ToLower(k)] = sent.Header.Get(k)
	}
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for hk, hv := range headers {
			h[hk] = hv
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	old := time.Now().Add(-10 * time.Minute).Unix()
	stale := with(webhook.HeaderWebhookTimestamp, strconv.FormatInt(old, 10))
	stale[webhook.HeaderWebhookSignature] = webhook.StandardSignature([]byte(secret), headers[webhook.HeaderWebhookID], old, sent.Body)
	tampered := bytes.Replace(sent.Body, []byte(`"type":2`), []byte(`"type":3`), 1)
	cases := []snippetCase{
		{"as sent", secret, headers, sent.Body},
		{"body changed", secret, headers, tampered},
		{"another secret", "another-secret-0123456789abcdef0123", headers, sent.Body},
		{"signed 10 minutes ago", secret, stale, sent.Body},
		{"no signature", secret, with(webhook.HeaderWebhookSignature, ""), sent.Body},
		{"no timestamp", secret, with(webhook.HeaderWebhookTimestamp, ""), sent.Body},
		{"another message id", secret, with(webhook.HeaderWebhookID, "another"), sent.Body},
	}
	return cases, []bool{true, false, false, false, false, false, false}
}

// runSnippet runs a program in dir fed the cases as JSON on stdin, and
// decodes the JSON list of results it prints.
func runSnippet(tb testing.TB, cmd *exec.Cmd, cases []snippetCase) []bool {
	tb.Helper()
	in, err := json.Marshal(cases)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	var got []bool
	if err := json.Unmarshal(out, &got); err != nil {
		tb.Fatalf("%s printed %q: %v", cmd, out, err)
	}
	return got
}

// TestREADMEVerifiersNode runs the Node verifier of docs/api.md (with the
// standardwebhooks package from npm) on a request the gateway sent and on
// altered copies.
func TestREADMEVerifiersNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	cases, want := snippetCases(t)
	script := readmeSnippet(t, "js") + `
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  console.log(JSON.stringify(cases.map((c) => verify(c.secret, c.headers, Buffer.from(c.body, 'base64')))));
});
`
	dir := t.TempDir()
	install := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "standardwebhooks@1.1.1")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install standardwebhooks (the verifier library of docs/api.md): %v\n%s", err, out)
	}
	path := filepath.Join(dir, "verify.js")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	got := runSnippet(t, exec.Command(node, path), cases)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Node verify on %v (-want +got):\n%s", names(cases), diff)
	}
}

// TestREADMEVerifiersGo compiles the Go verifier of docs/api.md (with the
// imports its comment lists, and the Standard Webhooks library) and runs
// it on the same requests.
func TestREADMEVerifiersGo(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	cases, want := snippetCases(t)
	snippet := readmeSnippet(t, "go")
	m := regexp.MustCompile(`// import: (.*)`).FindStringSubmatch(snippet)
	if m == nil {
		t.Fatal("the Go verifier of docs/api.md does not list its imports (// import: ...)")
	}
	var imports []string
	for _, p := range strings.Split(m[1], ",") {
		name, path, aliased := strings.Cut(strings.TrimSpace(p), " ")
		if !aliased {
			name, path = "", name
		}
		imports = append(imports, strings.TrimSpace(name+` "`+path+`"`))
	}
	dir := t.TempDir()
	// The verifier's module at the version this repository tests with.
	sums, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	var sum strings.Builder
	for line := range strings.Lines(string(sums)) {
		if strings.HasPrefix(line, "github.com/standard-webhooks/standard-webhooks/libraries ") {
			sum.WriteString(line)
		}
	}
	files := map[string]string{
		"go.mod":    "module verify\n\ngo 1.26\n\nrequire github.com/standard-webhooks/standard-webhooks/libraries v1.3.0\n",
		"go.sum":    sum.String(),
		"verify.go": "package main\n\nimport (\n\t" + strings.Join(imports, "\n\t") + "\n)\n\n" + snippet,
		"main.go": `package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
)

func main() {
	var cases []struct {
		Secret  string
		Headers map[string]string
		Body    []byte
	}
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	var out []bool
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c.Headers {
			h.Set(k, v)
		}
		out = append(out, verify([]byte(c.Secret), h, c.Body))
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(goTool, "run", "main.go", "verify.go")
	cmd.Dir = dir
	got := runSnippet(t, cmd, cases)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Go verify on %v (-want +got):\n%s", names(cases), diff)
	}
}

func names(cases []snippetCase) []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.Name
	}
	return out
}
