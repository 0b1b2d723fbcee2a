package dirstore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crashChildEnv names the directory a child of the crash test commits in.
const crashChildEnv = "MIRROR_DIRSTORE_CRASH_CHILD"

const (
	crashBucket = "crash-bucket"
	crashKey    = "crashed/between rename and index"
)

// crashChild opens the store in dir and commits crashKey with a hook
// that stops the commit after its rename, before its index write, and
// says so on stdout; there it waits to be killed.
func crashChild(dir string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Println("open:", err)
		return
	}
	setAfterRenameHook(func() {
		fmt.Println("renamed")
		time.Sleep(time.Hour)
	})
	err = storetest.Put(context.Background(), s, crashBucket, crashKey, "committed", pull.ObjectInfo{ETag: "crash"})
	fmt.Println("commit returned:", err)
}

// A gateway killed between a commit's rename and its index write leaves
// an object the index lacks. The listing of another gateway on the
// directory finds the dead process's live file, removes the logs it may
// have left behind, rebuilds the bucket's, and lists the object; a
// gateway opened later does too.
func TestCrashBetweenRenameAndIndexWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock, no kill -9")
	}
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "crashed/0", "z"} {
		put(t, s, crashBucket, k, "v")
	}
	require.Equal(t, []string{"a", "crashed/0", "z"}, listKeys(t, s, crashBucket, pull.ListQuery{}), "the log is built")

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	said := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		said <- line
	}()
	select {
	case line := <-said:
		require.Equal(t, "renamed\n", line)
	case <-time.After(30 * time.Second):
		_ = child.Process.Kill()
		t.Fatal("the child never reached its rename")
	}
	require.NoError(t, child.Process.Kill()) // SIGKILL: no defer, no Close
	_ = child.Wait()

	// The scene: the object is committed, the log lacks it, and the
	// child's live file is left unlocked.
	data, _, err := storetest.Get(ctx, s, crashBucket, crashKey)
	require.NoError(t, err)
	assert.Equal(t, "committed", data)
	log, err := os.ReadFile(filepath.Join(dir, logPath(crashBucket)))
	require.NoError(t, err)
	require.False(t, bytes.Contains(log, []byte(crashKey)), "the child died before its index write")
	live, err := os.ReadDir(filepath.Join(dir, liveDir))
	require.NoError(t, err)
	require.Len(t, live, 2, "this store's live file and the dead child's")

	assert.Equal(t, []string{"a", "crashed/0", crashKey, "z"}, listKeys(t, s, crashBucket, pull.ListQuery{}))
	live, err = os.ReadDir(filepath.Join(dir, liveDir))
	require.NoError(t, err)
	assert.Len(t, live, 1, "the dead child's live file is gone once handled")

	later, err := Open(dir)
	require.NoError(t, err)
	defer later.Close()
	page, err := later.List(ctx, crashBucket, pull.ListQuery{Prefix: "crashed/", Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Objects, 2)
	assert.Equal(t, crashKey, page.Objects[1].Key)
	assert.Equal(t, "crash", page.Objects[1].Info.ETag)
	assert.Equal(t, int64(len("committed")), page.Objects[1].Info.Size)
}
