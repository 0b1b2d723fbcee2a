//go:build !unix

package dirstore

import (
	"context"
	"os"
)

// Without flock a key index is kept for one process only: locks are
// taken at once, and no live file ever looks abandoned, so a directory
// must not be shared there (docs/SERVING.md §2, "The key index").

func lockShared(*os.File) error                           { return nil }
func lockExclusive(ctx context.Context, _ *os.File) error { return ctx.Err() }
func unlock(*os.File) error                               { return nil }
func abandoned(*os.File) bool                             { return false }
