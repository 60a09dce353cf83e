package config

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// color is a type of the program's own, read through encoding.TextUnmarshaler.
type color string

func (c *color) UnmarshalText(b []byte) error {
	var errs []error
	for _, part := range strings.Split(string(b), "+") {
		if part != "red" && part != "blue" {
			errs = append(errs, errors.New(part+" is not a color"))
		}
	}
	*c = color(b)
	return errors.Join(errs...)
}

func (c color) String() string { return string(c) }

type testConfig struct {
	Name   string        `key:"name" required:"true" doc:"Name of the thing."`
	Addr   string        `key:"addr" check:"hostport" doc:"Listen address."`
	Level  string        `key:"level" oneof:"low high" doc:"How loud."`
	Count  int           `key:"count" min:"1" max:"10" doc:"How many."`
	Wait   time.Duration `key:"wait" doc:"How long."`
	Off    time.Duration `key:"off" min:"0" doc:"0: never."`
	On     bool          `key:"on" doc:"Whether."`
	Token  string        `key:"token" secret:"true" doc:"A secret."`
	DSN    string        `key:"dsn" secret:"dsn" doc:"A database."`
	Hook   string        `key:"hook" secret:"url" check:"http_url" example:"https://hooks.example" doc:"A URL."`
	Server serverConfig  `key:"server"`
}

type serverConfig struct {
	Peers  []string        `key:"peers" check:"hostport" doc:"Peers."`
	Leads  []time.Duration `key:"leads" doc:"Lead times."`
	Nets   []netip.Prefix  `key:"nets" doc:"Networks."`
	Queues map[string]int  `key:"queues" doc:"Queues."`
	Zone   *time.Location  `key:"zone" doc:"Time zone."`
	Color  color           `key:"color" doc:"A color."`
}

func testDefaults() testConfig {
	zone, _ := time.LoadLocation("Asia/Shanghai")
	return testConfig{Name: "thing", Addr: ":8080", Level: "low", Count: 3, Wait: 90 * time.Second, On: true,
		Server: serverConfig{Leads: []time.Duration{time.Hour}, Queues: map[string]int{"a": 2}, Zone: zone, Color: "red"}}
}

// testSchema's rule besides the tags: a hook needs a token.
var testSchema = New("APP_", testDefaults, func(c *testConfig, p *Problems) {
	if p.OK("hook", "token") && c.Hook != "" && c.Token == "" {
		p.Add("token", "is needed with hook")
	}
})

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func writeFile(tb testing.TB, name, body string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestLoadPrecedence: defaults, then the file, then variables, then the
// files named by _FILE variables, each key's source recorded.
func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", "name: from-file\ncount: 5\nserver:\n  leads: [1h, 24h]\n  peers: a:1\n")
	l, err := testSchema.Load(file, env(map[string]string{
		"APP_COUNT": "7", "APP_LEVEL": "HIGH", "APP_TOKEN_FILE": writeFile(t, "token", " s3cret\n"),
		"APP_SERVER_NETS": "10.1.2.3/8, ::ffff:192.168.0.1", "APP_OFF": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := testDefaults()
	want.Name, want.Count, want.Level, want.Token, want.Off = "from-file", 7, "high", "s3cret", 0
	want.Server.Leads = []time.Duration{24 * time.Hour, time.Hour}
	want.Server.Peers = []string{"a:1"}
	want.Server.Nets = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.1/32")}
	if diff := cmp.Diff(want, *l.Config, cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	sources := map[string]Source{}
	for _, k := range []string{"name", "count", "level", "token", "wait", "server.leads"} {
		sources[k] = l.Sources[k]
	}
	if diff := cmp.Diff(map[string]Source{"name": SourceFile, "count": SourceEnv, "level": SourceEnv,
		"token": SourceSecretFile, "wait": SourceDefault, "server.leads": SourceFile}, sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}

// TestLoadProblems: each bad value is one line naming its key and variable.
func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"required", map[string]string{"APP_NAME": " "}, []string{"config name (APP_NAME): must be set"}},
		{"empty is unset", map[string]string{"APP_NAME": ""}, nil},
		{"not one of", map[string]string{"APP_LEVEL": "mid"}, []string{`config level (APP_LEVEL): "mid" is not one of low, high`}},
		{"int range", map[string]string{"APP_COUNT": "11"}, []string{`config count (APP_COUNT): "11" is not an integer between 1 and 10`}},
		{"not an int", map[string]string{"APP_COUNT": "two"}, []string{`config count (APP_COUNT): "two" is not an integer between 1 and 10`}},
		{"zero duration", map[string]string{"APP_WAIT": "0s"}, []string{`config wait (APP_WAIT): "0s" is not a positive duration such as 30s or 1h (Go's units, and d for days: 7d, 1d12h)`}},
		{"negative duration", map[string]string{"APP_OFF": "-1s"}, []string{`config off (APP_OFF): "-1s" is not a positive duration such as 30s or 1h (Go's units, and d for days: 7d, 1d12h)`}},
		{"bool", map[string]string{"APP_ON": "maybe"}, []string{`config on (APP_ON): "maybe" is not true or false`}},
		{"no port", map[string]string{"APP_ADDR": "nonsense"}, []string{`config addr (APP_ADDR): "nonsense" is not host:port with a port from 0 to 65535`}},
		{"port too big", map[string]string{"APP_ADDR": "localhost:99999"}, []string{`config addr (APP_ADDR): "localhost:99999" is not host:port with a port from 0 to 65535`}},
		{"named port", map[string]string{"APP_ADDR": "localhost:http"}, []string{`config addr (APP_ADDR): "localhost:http" is not host:port with a port from 0 to 65535`}},
		{"list item without a port", map[string]string{"APP_SERVER_PEERS": "a:1,b"}, []string{`config server.peers (APP_SERVER_PEERS): "b" is not host:port with a port from 0 to 65535`}},
		{"not a URL", map[string]string{"APP_HOOK": "hooks.example/x", "APP_TOKEN": "t"}, []string{`config hook (APP_HOOK): "hooks.example/x" is not an http(s) URL such as https://hooks.example`}},
		{"rule", map[string]string{"APP_HOOK": "https://hooks.example/x"}, []string{"config token (APP_TOKEN): is needed with hook"}},
		{"lead", map[string]string{"APP_SERVER_LEADS": "1h,soon,-2h"}, []string{
			`config server.leads (APP_SERVER_LEADS): "soon" is not a positive duration such as 24h or 90m (Go's units, and d for days: 7d, 1d12h)`,
			`config server.leads (APP_SERVER_LEADS): "-2h" is not a positive duration such as 24h or 90m (Go's units, and d for days: 7d, 1d12h)`}},
		{"network", map[string]string{"APP_SERVER_NETS": "10.0.0.0/8,lb"}, []string{`config server.nets (APP_SERVER_NETS): "lb" is not an IP address or CIDR such as 10.0.0.0/8`}},
		{"queue", map[string]string{"APP_SERVER_QUEUES": "a:0"}, []string{`config server.queues (APP_SERVER_QUEUES): "a:0" is not queue:priority with priority >= 1`}},
		{"no queue", map[string]string{"APP_SERVER_QUEUES": ","}, []string{"config server.queues (APP_SERVER_QUEUES): needs at least one queue:priority"}},
		{"zone", map[string]string{"APP_SERVER_ZONE": "Mars/Olympus"}, []string{`config server.zone (APP_SERVER_ZONE): "Mars/Olympus" is not an IANA time zone such as Asia/Shanghai`}},
		{"own type, one line per problem", map[string]string{"APP_SERVER_COLOR": "green+red+pink"}, []string{
			"config server.color (APP_SERVER_COLOR): green is not a color", "config server.color (APP_SERVER_COLOR): pink is not a color"}},
		{"secret and its file", map[string]string{"APP_TOKEN": "t", "APP_TOKEN_FILE": "/x"}, []string{
			"config token (APP_TOKEN): both APP_TOKEN and APP_TOKEN_FILE are set; set one of them"}},
		{"missing secret file", map[string]string{"APP_TOKEN_FILE": "/nonexistent/token"}, []string{
			"config token (APP_TOKEN_FILE): open /nonexistent/token: no such file or directory"}},
		{"rules wait for their keys to parse", map[string]string{"APP_HOOK": "nope"}, []string{
			`config hook (APP_HOOK): "nope" is not an http(s) URL such as https://hooks.example`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := testSchema.Load("", env(tt.env))
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if (err == nil) != (l.Config != nil) {
				t.Errorf("Config %v with error %v", l.Config, err)
			}
		})
	}
}

// TestLoadFile: unknown keys are problems with a suggestion; a file that
// does not parse is an error of its own.
func TestLoadFile(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{"nmae: x\n", `unknown key "nmae" (did you mean name?)`},
		{"server:\n  zzzzzzzz: 1\n", `unknown key "server.zzzzzzzz" (the keys of server: ` +
			`server.color, server.leads, server.nets, server.peers, server.queues, server.zone)`},
		{"zzzzzzzz: 1\n", `unknown key "zzzzzzzz" (no key is close; the reference configuration lists them all)`},
		{"name: [\n", "yaml"},
	}
	for _, tt := range tests {
		path := writeFile(t, "c.yaml", tt.body)
		_, err := testSchema.Load(path, env(nil))
		if err == nil || !strings.HasPrefix(err.Error(), "config file "+path+": ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want config file %s: ...%s", tt.body, err, path, tt.want)
		}
	}
}

func TestLoadAllWarnsOfUnknownVariables(t *testing.T) {
	_, unknown, err := testSchema.LoadAll("", env(map[string]string{"APP_COUNT": "0"}),
		[]string{"APP_COUNT=0", "APP_CUONT=1", "APP_TOKEN_FIEL=x", "APP_ZZZZZZZZZZ=1", "APP_CUONT=2", "OTHER=1"})
	want := []Unknown{{Name: "APP_CUONT", Suggestion: "APP_COUNT"}, {Name: "APP_TOKEN_FIEL", Suggestion: "APP_TOKEN_FILE"},
		{Name: "APP_ZZZZZZZZZZ"}}
	if diff := cmp.Diff(want, unknown); diff != "" {
		t.Errorf("unknown (-want +got):\n%s", diff)
	}
	wantErr := `config count (APP_COUNT): "0" is not an integer between 1 and 10
warning: unknown environment variable APP_CUONT is ignored; did you mean APP_COUNT?
warning: unknown environment variable APP_TOKEN_FIEL is ignored; did you mean APP_TOKEN_FILE?
warning: unknown environment variable APP_ZZZZZZZZZZ is ignored`
	if err == nil || err.Error() != wantErr {
		t.Errorf("error:\n%v\nwant:\n%s", err, wantErr)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"JWT_SECRET", "JWT_SECRET", 0},
		{"JWT_SECRETS", "JWT_SECRET", 1},
		{"kitten", "sitting", 3},
		{"redis.adress", "redis.addr", 4},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPrint(t *testing.T) {
	var out bytes.Buffer
	err := testSchema.Print(&out, "", env(map[string]string{"APP_TOKEN": "s3cret", "APP_DSN": "u:pw@tcp(db:3306)/x",
		"APP_HOOK": "https://u:pw@hooks.example/x?key=k", "APP_SERVER_LEADS": "24h,90m"}), []string{"APP_NMAE=x"})
	if err != nil {
		t.Fatal(err)
	}
	want := `KEY            VALUE                                                SOURCE
name           thing                                                default
addr           :8080                                                default
level          low                                                  default
count          3                                                    default
wait           1m30s                                                default
off            0s                                                   default
on             true                                                 default
token          <redacted>                                           env
dsn            u:<redacted>@tcp(db:3306)/x                          env
hook           https://u:<redacted>@hooks.example/x?key=<redacted>  env
server.peers   ""                                                   default
server.leads   24h,1h30m                                            env
server.nets    ""                                                   default
server.queues  a:2                                                  default
server.zone    Asia/Shanghai                                        default
server.color   red                                                  default
warning: unknown environment variable APP_NMAE is ignored; did you mean APP_NAME?
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("print (-want +got):\n%s", diff)
	}
}

// TestPrintInvalid shows the values as read, and returns the problems.
func TestPrintInvalid(t *testing.T) {
	var out bytes.Buffer
	err := testSchema.Print(&out, "", env(map[string]string{"APP_COUNT": "many", "APP_TOKEN": "s3cret"}), nil)
	if err == nil || !strings.Contains(err.Error(), "APP_COUNT") {
		t.Fatalf("error %v, want the count's problem", err)
	}
	rows := map[string]string{}
	for line := range strings.Lines(out.String()) {
		f := strings.Fields(line)
		rows[f[0]] = strings.Join(f[1:], " ")
	}
	if diff := cmp.Diff(map[string]string{"count": "many env", "token": "<redacted> env"},
		map[string]string{"count": rows["count"], "token": rows["token"]}); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"root:@tcp(127.0.0.1:3306)/house_gateway?parseTime=true", "root:@tcp(127.0.0.1:3306)/house_gateway?parseTime=true"},
		{"gw:secret@tcp(db:3306)/gw", "gw:<redacted>@tcp(db:3306)/gw"},
		{"gw:p@ss:w/rd@tcp(db:3306)/gw?loc=UTC", "gw:<redacted>@tcp(db:3306)/gw?loc=UTC"},
		{"gw@unix(/run/mysqld.sock)/gw", "gw@unix(/run/mysqld.sock)/gw"},
		{"/gw", "/gw"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redactDSN(tt.dsn); got != tt.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"https://hooks.example.com/push", "https://hooks.example.com/push"},
		{"https://gw:s3cret@hooks.example.com/push", "https://gw:<redacted>@hooks.example.com/push"},
		{"https://hooks.example.com/push?token=abc&team=7", "https://hooks.example.com/push?team=<redacted>&token=<redacted>"},
		{"https://gw@hooks.example.com/", "https://gw@hooks.example.com/"},
		{"http://[::1", "<redacted>"},
		{"", ""},
	} {
		if got := redactURL(tt.url); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestReference(t *testing.T) {
	type small struct {
		Name string        `key:"name" required:"true" doc:"Name of the thing, a description long enough to be wrapped at the reference's width of 78 bytes."`
		Wait time.Duration `key:"wait" min:"0" doc:"How long."`
		Sub  struct {
			Count int    `key:"count" min:"1" max:"10" doc:"How many."`
			Level string `key:"level" oneof:"low high" doc:"How loud."`
			Key   string `key:"key" secret:"true" doc:"A secret."`
		} `key:"sub"`
	}
	s := New("APP_", func() small {
		c := small{Name: "thing", Wait: time.Second}
		c.Sub.Count, c.Sub.Level = 3, "low"
		return c
	}, func(*small, *Problems) {})
	want := `# header

# Name of the thing, a description long enough to be wrapped at the
# reference's width of 78 bytes.
# APP_NAME; required
name: "thing"

# How long.
# APP_WAIT
wait: "1s"

sub:
  # How many.
  # APP_SUB_COUNT; an integer between 1 and 10
  count: 3
  # How loud.
  # APP_SUB_LEVEL; one of low, high
  level: "low"
  # A secret.
  # APP_SUB_KEY or APP_SUB_KEY_FILE
  key: ""
`
	if diff := cmp.Diff(want, string(s.Reference("# header\n"))); diff != "" {
		t.Errorf("reference (-want +got):\n%s", diff)
	}
}

func TestCheckTable(t *testing.T) {
	doc := "| variable | key | default | meaning |\n| --- | --- | --- | --- |\n" +
		"| `APP_NAME` | `name` | `thing` | |\n| `APP_ADDR` | `addr` | `:9090` | |\n| `APP_WAIT` | `wait` | `90s` | |\n" +
		"| `APP_COUNTS` | `count` | `3` | |\n| `APP_ON` | `on` | on | |\n| `APP_ON` | `on` | | |\n| `APP_X` | `x` | | |\n"
	got := testSchema.CheckTable(doc)
	want := []string{
		"addr's default is :8080, not `:9090`",
		"count's variable is APP_COUNT, not APP_COUNTS",
		"documents x, which is not a key",
		"dsn is in 0 rows, not 1",
		"hook is in 0 rows, not 1",
		"level is in 0 rows, not 1",
		"off is in 0 rows, not 1",
		"on is in 2 rows, not 1",
		"server.color is in 0 rows, not 1",
		"server.leads is in 0 rows, not 1",
		"server.nets is in 0 rows, not 1",
		"server.peers is in 0 rows, not 1",
		"server.queues is in 0 rows, not 1",
		"server.zone is in 0 rows, not 1",
		"token is in 0 rows, not 1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLint(t *testing.T) {
	if got := testSchema.Lint(); len(got) > 0 {
		t.Errorf("test schema: %v", got)
	}
	type bad struct {
		NoDoc  string `key:"no_doc"`
		NoMax  int    `key:"no_max" min:"1" doc:"x"`
		Ranged bool   `key:"ranged" min:"1" max:"2" doc:"x"`
		OneOf  int    `key:"one_of" min:"0" max:"9" oneof:"a b" doc:"x"`
		Level  string `key:"level" oneof:"low high" doc:"x"`
	}
	got := New("APP_", func() bad { return bad{NoMax: 1, Level: "mid"} }, func(*bad, *Problems) {}).Lint()
	want := []string{
		"no_doc has no doc tag",
		"no_max: integers need min and max tags, other types none",
		"ranged: integers need min and max tags, other types none",
		"one_of: oneof on a int",
		`level: default "mid" is invalid: ["mid" is not one of low, high]`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lint (-want +got):\n%s", diff)
	}
}

func TestNewRefusesWhatItCannotRead(t *testing.T) {
	type noKey struct{ X int }
	type float struct {
		X float64 `key:"x"`
	}
	for name, f := range map[string]func(){
		"no key tag":       func() { New("APP_", func() noKey { return noKey{} }, nil) },
		"unsupported type": func() { New("APP_", func() float { return float{} }, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestCreateSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	created, err := CreateSecretFile(path, 16)
	if err != nil || !created {
		t.Fatalf("first CreateSecretFile = %v, %v", created, err)
	}
	b, _ := os.ReadFile(path)
	if info, _ := os.Stat(path); len(strings.TrimSpace(string(b))) != 32 || info.Mode().Perm() != 0o600 {
		t.Errorf("secret file %q, mode %v; want 32 hex digits, 0600", b, info.Mode().Perm())
	}
	if created, err := CreateSecretFile(path, 16); err != nil || created {
		t.Errorf("second CreateSecretFile = %v, %v; want kept", created, err)
	}
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Error("second CreateSecretFile changed the secret")
	}
	empty := writeFile(t, "empty", "\n")
	if _, err := CreateSecretFile(empty, 16); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("CreateSecretFile of an empty file: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		text string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0d", 0, true},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"2d-1h", 0, false},
		{"1dx", 0, false},
		{"soon", 0, false},
	} {
		got, err := ParseDuration(tt.text)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (ok %v)", tt.text, got, err, tt.want, tt.ok)
		}
	}
}
