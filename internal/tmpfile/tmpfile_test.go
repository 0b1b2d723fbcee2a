package tmpfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A sweep removes what no writer holds, and leaves what one is writing.
func TestSweepRemovesOnlyWhatNobodyHolds(t *testing.T) {
	dir := t.TempDir()
	held, err := Create(dir, "spool-*")
	require.NoError(t, err)
	defer held.Close()
	left, err := Create(dir, "spool-*")
	require.NoError(t, err)
	left.Close()                                               // as a process killed mid-write leaves it
	young, err := os.Create(filepath.Join(dir, "spool-young")) // created, not locked yet
	require.NoError(t, err)
	young.Close()
	old := time.Now().Add(-2 * MinAge)
	for _, f := range []string{held.Name(), left.Name()} {
		require.NoError(t, os.Chtimes(f, old, old))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other"), nil, 0o600))

	n, err := Sweep(dir, "spool-")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = os.Stat(held.Name())
	assert.NoError(t, err, "the held file stays")
	_, err = os.Stat(left.Name())
	assert.ErrorIs(t, err, os.ErrNotExist, "the abandoned one is gone")
	_, err = os.Stat(young.Name())
	assert.NoError(t, err, "a file younger than MinAge may be between its creation and its lock: it stays")
	_, err = os.Stat(filepath.Join(dir, "other"))
	assert.NoError(t, err, "other names are not touched")
	assert.ErrorIs(t, Lock(mustOpen(t, held.Name())), ErrLocked, "a second open file can not take a held lock")
}

func mustOpen(t *testing.T, name string) *os.File {
	f, err := os.Open(name)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}
