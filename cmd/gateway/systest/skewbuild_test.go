package systest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/houseview/gateway/pkg/testenv"
)

// Go programs read the wall clock without libc (vDSO), so libfaketime
// does not move their clock (measured: faketime -f +2s leaves time.Now
// as it is). The skewed build replaces the standard library's time.Now, by
// a build overlay of package time, with one that adds
// GATEWAY_TEST_CLOCK_SKEW (a Go duration): every wall-clock reading of the
// process moves, the gateway's, asynq's and go-redis's alike; timers and
// monotonic durations do not, as on a machine whose clock is off.

// skewSource is the file the overlay adds to package time.
const skewSource = `package time

import "syscall"

// testSkew is added to every wall-clock reading (a test build only).
var testSkew = func() Duration {
	v, ok := syscall.Getenv("GATEWAY_TEST_CLOCK_SKEW")
	if !ok {
		return 0
	}
	d, err := ParseDuration(v)
	if err != nil {
		return 0
	}
	return d
}()

// Now returns the current local time, its wall clock moved by testSkew
// (its monotonic reading stays: Since and Until read the runtime's).
func Now() Time {
	t := realNow()
	if testSkew != 0 {
		mono := t.ext
		t = t.Add(testSkew)
		if t.wall&hasMonotonic != 0 {
			t.ext = mono
		}
	}
	return t
}
`

var (
	skewOnce   sync.Once
	skewBinary string
	skewErr    error
)

// skewedGateway returns the path of the gateway built with the skewable
// clock (built once per test binary; go's build cache keeps it after).
func skewedGateway(tb testing.TB) string {
	tb.Helper()
	skewOnce.Do(func() { skewBinary, skewErr = buildSkewed() })
	if skewErr != nil {
		tb.Fatalf("building the skewed gateway: %v", skewErr)
	}
	return skewBinary
}

// buildSkewed builds the gateway with package time overlaid: time.go with
// its Now renamed realNow, and skewSource.
func buildSkewed() (string, error) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	timeDir := filepath.Join(strings.TrimSpace(string(goroot)), "src", "time")
	orig, err := os.ReadFile(filepath.Join(timeDir, "time.go"))
	if err != nil {
		return "", err
	}
	const now = "\nfunc Now() Time {\n"
	if strings.Count(string(orig), now) != 1 {
		return "", errors.New("time.go of this Go version has no single `func Now() Time {`")
	}
	dir, err := os.MkdirTemp("", "gateway-skew-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir) // go build reads the overlay; the binary lies elsewhere
	patched := strings.Replace(string(orig), now, "\nfunc realNow() Time {\n", 1)
	files := map[string]string{"time.go": patched, "zz_testskew.go": skewSource}
	overlay := map[string]map[string]string{"Replace": {}}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return "", err
		}
		overlay["Replace"][filepath.Join(timeDir, name)] = p
	}
	b, _ := json.Marshal(overlay)
	ov := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ov, b, 0o644); err != nil {
		return "", err
	}
	return testenv.BuildGateway("-overlay", ov)
}
