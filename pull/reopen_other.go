//go:build !linux

package pull

import (
	"errors"
	"os"
)

// reopen is not known here: clients of a running fetch read its spool
// through a SpoolReader.
func reopen(*os.File) (*os.File, error) { return nil, errors.New("pull: no way to open a spool again") }
