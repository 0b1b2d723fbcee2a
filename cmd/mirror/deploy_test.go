package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The Dockerfile and the systemd unit make promises that README.md's "Run
// it as a service" states; CI builds the image only where Docker can, so
// these tests read the files instead, and run everywhere.

const repoRoot = "../.."

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

// readDockerfile returns the Dockerfile's stages, each a list of
// instructions starting with its FROM.
func readDockerfile(t *testing.T) [][]instruction {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	require.NoError(t, err)
	var stages [][]instruction
	var line string
	for _, raw := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(raw)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && line == "") {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			line += cont + " "
			continue
		}
		line += trimmed
		cmd, args, _ := strings.Cut(line, " ")
		line = ""
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		require.NotEmpty(t, stages, "%s before any FROM", in.cmd)
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	require.Empty(t, line, "the Dockerfile ends in a continuation line")
	return stages
}

func find(stage []instruction, cmd string) []string {
	var out []string
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// goMinor is go.mod's Go version without its patch: "1.26".
func goMinor(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(data))
	require.NotNil(t, m, "go.mod has no go line")
	return m[1]
}

// parseServe parses serve's arguments with serve's own flags, so that a
// flag the files give and the command does not have fails here.
func parseServe(t *testing.T, args []string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serveFlags(fs)
	require.NoError(t, fs.Parse(args), "mirror serve %q", args)
	require.Empty(t, fs.Args(), "mirror serve takes no arguments")
	return fs
}

func flagDuration(t *testing.T, fs *flag.FlagSet, name string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(fs.Lookup(name).Value.String())
	require.NoError(t, err)
	return d
}

func TestDeployDockerfile(t *testing.T) {
	stages := readDockerfile(t)
	require.GreaterOrEqual(t, len(stages), 2, "a build stage and a final one")
	build, final := stages[0], stages[len(stages)-1]

	require.Equal(t, "golang:"+goMinor(t)+" AS build", build[0].args, "the build stage's Go is go.mod's")
	var built bool
	for _, run := range find(build, "RUN") {
		if strings.Contains(run, "go build") {
			built = true
			require.Contains(t, run, "CGO_ENABLED=0", "a static binary: the final image has no libc")
			require.Contains(t, run, "./cmd/mirror")
			require.Contains(t, run, "-trimpath")
		}
	}
	require.True(t, built, "the build stage runs go build")

	require.NotContains(t, final[0].args, "golang", "the final image is not the toolchain's")
	users := find(final, "USER")
	require.Len(t, users, 1)
	uid, gid, _ := strings.Cut(users[0], ":")
	n, err := strconv.Atoi(uid)
	require.NoError(t, err, "USER %q: numeric, so runAsNonRoot can check it", users[0])
	require.NotZero(t, n, "USER is not root")
	if gid != "" {
		_, err := strconv.Atoi(gid)
		require.NoError(t, err, "USER %q: a numeric group", users[0])
	}

	require.Equal(t, []string{"/data"}, find(final, "VOLUME"))
	// The volume's directory is the user's, or a new volume is root's.
	var owned bool
	for _, cp := range find(final, "COPY") {
		f := strings.Fields(cp)
		if f[len(f)-1] == "/data" {
			owned = true
			require.Contains(t, f, "--chown="+users[0], "/data belongs to USER")
		}
	}
	require.True(t, owned, "the image has a /data of USER's")

	var entrypoint, cmd []string
	require.NoError(t, json.Unmarshal([]byte(find(final, "ENTRYPOINT")[0]), &entrypoint))
	require.NoError(t, json.Unmarshal([]byte(find(final, "CMD")[0]), &cmd))
	require.Equal(t, []string{"/mirror"}, entrypoint)
	require.Equal(t, "serve", cmd[0])
	fs := parseServe(t, cmd[1:])
	require.Equal(t, "/data", fs.Lookup("data").Value.String(), "the store is on the volume")
	host, port, err := net.SplitHostPort(fs.Lookup("listen").Value.String())
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0", host, "only the container's own address is reachable through a published port")
	require.Contains(t, strings.Fields(strings.Join(find(final, "EXPOSE"), " ")), port)

	ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	require.NoError(t, err)
	require.Contains(t, strings.Fields(string(ignore)), ".git")
}

// readUnit returns a systemd unit's settings by section, each key's values
// in order (a key may be given more than once).
func readUnit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	unit := map[string]map[string][]string{}
	var section string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			unit[section] = map[string][]string{}
		default:
			require.NotEmpty(t, section, "%q before any section", line)
			require.False(t, strings.HasSuffix(line, `\`), "no continuation lines: %q", line)
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%q is not KEY=VALUE", line)
			unit[section][strings.TrimSpace(k)] = append(unit[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	require.NoError(t, sc.Err())
	return unit
}

// readEnv reads an EnvironmentFile= of KEY=VALUE lines, unquoted.
func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%q is not KEY=VALUE", line)
		require.NotContains(t, v, `"`, "unquoted, so the unit's $%s splits it into words", k)
		env[k] = v
	}
	return env
}

// systemdSeconds reads a systemd time span of the forms this unit uses:
// "45", "45s", "1min 30s".
func systemdSeconds(t *testing.T, s string) time.Duration {
	t.Helper()
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "min", "m"))
	require.NoError(t, err, "time span %q", s)
	return d
}

func TestDeploySystemdUnit(t *testing.T) {
	dir := filepath.Join(repoRoot, "deploy", "systemd")
	unit := readUnit(t, filepath.Join(dir, "mirror.service"))
	svc := unit["Service"]
	require.NotNil(t, svc)
	one := func(key string) string {
		t.Helper()
		require.Len(t, svc[key], 1, "%s= once", key)
		return svc[key][0]
	}

	for key, want := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
		"ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
		"LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "CapabilityBoundingSet": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "StateDirectory": "mirror",
		"KillSignal": "SIGTERM",
	} {
		require.Equal(t, want, one(key), key)
	}
	require.Equal(t, "@system-service", svc["SystemCallFilter"][0], "allow-list first; the denials after it narrow it")
	// Other processes hidden, /proc/self kept: a fetch reopens its spool
	// through /proc/self/fd. ProcSubset=pid would keep that too, but
	// costs a metric (the unit's comment says which).
	require.Equal(t, "invisible", one("ProtectProc"))
	require.NotContains(t, svc, "ProcSubset")
	require.NotEqual(t, "root", one("User"))
	require.NotContains(t, svc, "DynamicUser", "the unit's comment says why a user of its own")

	reload := strings.Fields(one("ExecReload"))
	require.Equal(t, []string{"/bin/kill", "-HUP", "$MAINPID"}, reload, "a reload is SIGHUP to the gateway")

	// ExecStart, with $MIRROR_OPTS as mirror.env sets it, is a real
	// `mirror serve` command line whose store is the StateDirectory.
	words := strings.Fields(one("ExecStart"))
	require.Equal(t, "/usr/local/bin/mirror", words[0])
	require.Equal(t, "serve", words[1])
	env := readEnv(t, filepath.Join(dir, "mirror.env"))
	var args []string
	for _, w := range words[2:] {
		if name, ok := strings.CutPrefix(w, "$"); ok {
			require.Contains(t, env, name, "mirror.env sets $%s", name)
			args = append(args, strings.Fields(env[name])...)
			continue
		}
		args = append(args, w)
	}
	fs := parseServe(t, args)
	require.Equal(t, "/var/lib/"+one("StateDirectory"), fs.Lookup("data").Value.String())

	// systemd's SIGKILL comes after the drain and the grace period, with
	// time to spare for the store's last syncs.
	drain, grace := flagDuration(t, fs, "drain"), flagDuration(t, fs, "grace")
	stop := systemdSeconds(t, one("TimeoutStopSec"))
	require.Greater(t, stop, drain+grace, "TimeoutStopSec %v, -drain %v, -grace %v", stop, drain, grace)

	users, err := os.ReadFile(filepath.Join(dir, "mirror.sysusers"))
	require.NoError(t, err)
	require.Regexp(t, `(?m)^u `+regexp.QuoteMeta(one("User"))+` `, string(users), "mirror.sysusers makes the unit's user")
}
