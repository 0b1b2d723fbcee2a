package main

import (
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// `mirror version` and `mirror -version` print the build on one line: the
// module version, the revision and the Go version.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		code, out, errOut := runCmd(t, "", args...)
		require.Equal(t, 0, code, errOut)
		assert.Regexp(t, `^mirror \S+, revision \S+.*, go\S+\n$`, out, args)
		assert.Contains(t, out, runtime.Version())
	}
}

// A binary built from a clone names the revision it was built from (the
// environment here may turn -buildvcs off: the build asks for it).
func TestVersionNamesTheRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git: no revision to embed")
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a git work tree: no revision to embed")
	}
	bin := filepath.Join(t.TempDir(), "mirror")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	out, err := exec.Command(bin, "version").Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), "revision "+strings.TrimSpace(string(rev)))
}

// The metrics say which build runs.
func TestBuildInfoMetric(t *testing.T) {
	srv := httptest.NewServer(newMetrics(&pull.Fetcher{}).handler(nil))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	b := thisBuild()
	assert.Contains(t, string(body), `mirror_build_info{goversion="`+b.goVersion+`",revision="`+b.revision+`",version="`+b.version+`"} 1`)
}
