package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// GatewayPackage is the import path of the gateway's main package.
const GatewayPackage = "github.com/houseview/gateway/cmd/gateway"

// builds are the gateway binaries this process built, by their go build
// flags, in one temporary directory.
var builds struct {
	mu    sync.Mutex
	dir   string
	built map[string]build
}

type build struct {
	path string
	err  error
}

// BuildGateway builds the gateway binary with go build and extra flags
// (e.g. "-ldflags", "-X main.version=v1.2.3") into a temporary directory
// and returns its path. Each set of flags is built once per process: later
// calls return the same binary (or the same error). go runs in the current
// directory, which must lie inside the module (a test's package directory
// does). RemoveGatewayBuilds removes the binaries.
func BuildGateway(flags ...string) (string, error) {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	key := strings.Join(flags, "\x00")
	if b, ok := builds.built[key]; ok {
		return b.path, b.err
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "gateway-bin-")
		if err != nil {
			return "", err
		}
		builds.dir, builds.built = dir, map[string]build{}
	}
	name := "gateway"
	if n := len(builds.built); n > 0 {
		name += "-" + strconv.Itoa(n)
	}
	b := build{path: filepath.Join(builds.dir, name)}
	args := append(append([]string{"build", "-o", b.path}, flags...), GatewayPackage)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		b = build{err: fmt.Errorf("go build %s: %v\n%s", strings.Join(flags, " "), err, out)}
	}
	builds.built[key] = b
	return b.path, b.err
}

// RemoveGatewayBuilds removes the binaries BuildGateway made (a TestMain
// calls it once the tests ran).
func RemoveGatewayBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.built = "", nil
}
