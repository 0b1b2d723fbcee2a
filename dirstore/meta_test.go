package dirstore

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mirrorkit/mirror/internal/storetest"
	"github.com/mirrorkit/mirror/pull"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The most metadata a fetch stores, in the bytes JSON escapes the most
// (<, > and &, six bytes each to json.Marshal), fits the trailer: 8 KiB
// of kept headers, 2 KiB of user metadata, a long origin URL and a
// 1024-byte key. Escaped as json.Marshal does, it would pass the 64 KiB a
// trailer may hold, and the object would read as damaged and be fetched
// on every miss.
func TestTheMostMetadataFitsTheTrailer(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	key := strings.Repeat("<", 1024)
	info := pull.ObjectInfo{ETag: "e",
		Header:   http.Header{"Content-Disposition": {strings.Repeat("<&>", 8<<10/3)}},
		UserMeta: map[string]string{"m": strings.Repeat("&", pull.MaxUserMetaBytes-1)},
		Origin:   "https://o.example/" + strings.Repeat("&", 4<<10)}
	require.NoError(t, storetest.Put(ctx, s, "bkt", key, "x", info))
	data, got, err := storetest.Get(ctx, s, "bkt", key)
	require.NoError(t, err)
	assert.Equal(t, "x", data)
	assert.Equal(t, info.UserMeta, got.UserMeta)
	assert.Equal(t, info.Origin, got.Origin)
	assert.Equal(t, info.Header, got.Header)
}
