package systest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/houseview/gateway/pkg/testenv"
)

// TestReleaseSnapshot runs the release script as `make release-snapshot`
// does, for this machine's platform, and uses what it made as a user of a
// release would: checks the checksums, unpacks the archive, runs the
// binary against the test services, and receives a push with the
// JavaScript client installed from the release's package.
func TestReleaseSnapshot(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	commit := strings.TrimSpace(string(head))
	out := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	script := exec.Command("bash", "deploy/release/release.sh", "snapshot")
	script.Dir = "../../.."
	script.Env = append(os.Environ(), "OUT="+out, "PLATFORMS="+platform)
	if log, err := script.CombinedOutput(); err != nil {
		t.Fatalf("release.sh snapshot: %v\n%s", err, log)
	}

	sum := exec.Command("sha256sum", "-c", "checksums.txt")
	sum.Dir = out
	if log, err := sum.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c checksums.txt: %v\n%s", err, log)
	}
	archives, _ := filepath.Glob(filepath.Join(out, "gateway_v*-SNAPSHOT-*_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz"))
	tarballs, _ := filepath.Glob(filepath.Join(out, "houseview-gateway-client-*.tgz"))
	if len(archives) != 1 || len(tarballs) != 1 {
		t.Fatalf("release made archives %v and client packages %v, want one of each", archives, tarballs)
	}
	changelog, err := os.ReadFile(filepath.Join(out, "CHANGELOG.md"))
	subject, _ := exec.Command("git", "log", "-1", "--no-merges", "--pretty=%s").Output()
	if err != nil || !strings.Contains(string(changelog), strings.TrimSpace(string(subject))) {
		t.Errorf("CHANGELOG.md (%v) lacks the last commit %q:\n%s", err, subject, changelog)
	}

	unpacked := t.TempDir()
	if log, err := exec.Command("tar", "-xzf", archives[0], "-C", unpacked, "--strip-components=1").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, log)
	}
	for _, f := range []string{"README.md", "LICENSE", "config/reference.yaml"} {
		if _, err := os.Stat(filepath.Join(unpacked, f)); err != nil {
			t.Errorf("the archive lacks %s: %v", f, err)
		}
	}
	bin := filepath.Join(unpacked, "gateway")
	version, err := exec.Command(bin, "version").Output()
	wantVersion := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(archives[0]), "gateway_"), "_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
	if err != nil || !strings.Contains(string(version), "version: "+wantVersion+"\n") || !strings.Contains(string(version), "commit:  "+commit+"\n") {
		t.Errorf("gateway version: %v\n%s\nwant version %s, commit %s", err, version, wantVersion, commit)
	}

	node := testenv.MustStartGateway(t, bin, sharedEnv(t))
	node20, _ := mustNode(t)
	project := mustScratchProject(t, tarballs[0])
	const user = 3101
	got := runPackageScript(t, project, []string{node20, "--experimental-websocket", "main.js", node.HTTPURL, fmt.Sprint(user)}, func() {
		if err := pushRetrying(node.HTTPURL, user, "from-the-release"); err != nil {
			t.Error(err)
		}
	})
	if !strings.Contains(got, "got from-the-release") {
		t.Errorf("the released client printed %q, want the push", got)
	}
}
