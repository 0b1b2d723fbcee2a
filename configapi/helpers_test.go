package configapi

import (
	"io"
	"log/slog"

	"github.com/mirrorkit/mirror/internal/httpapi"
)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// The error bodies of the two APIs, as their tests read them.
type (
	bosError = httpapi.JSONError
	qsError  = httpapi.QingStorError
)
