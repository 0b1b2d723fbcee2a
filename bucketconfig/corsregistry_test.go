package bucketconfig_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CORS rules are a record of their own beside the configuration and the
// policy: changing either keeps them, they read back from the store in
// their canonical form, another registry on the store sees a change
// within its TTL, and a delete that removed nothing is no change.
func TestRegistryKeepsCORSBesideTheConfiguration(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	var changes []string
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger,
		ObserveChange: func(_ string, _ mirror.Format, op string) { changes = append(changes, op) }}
	now := time.Unix(1_800_000_000, 0)
	other := &bucketconfig.Registry{Store: store, Logger: quietLogger, Now: func() time.Time { return now }}

	c, err := reg.CORS(ctx, "bkt")
	require.NoError(t, err)
	assert.Nil(t, c, "none set")
	_, err = other.CORS(ctx, "bkt") // remembered as none
	require.NoError(t, err)

	require.NoError(t, reg.PutCORS(ctx, "bkt", sdkRules))
	c, err = reg.CORS(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, sdkRules, c, "in force at once")
	stored, err := store.GetCORS(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, sdkRules.Encode(), stored, "stored in the canonical form")

	c, _ = other.CORS(ctx, "bkt")
	assert.Nil(t, c, "another gateway trusts what it read for the TTL")
	now = now.Add(bucketconfig.DefaultTTL)
	c, _ = other.CORS(ctx, "bkt")
	assert.Equal(t, sdkRules, c, "and then reads the change")

	rules := []byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`)
	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative, rules))
	require.NoError(t, reg.SetPolicy(ctx, "bkt", bucketconfig.Private))
	_, err = reg.Delete(ctx, "bkt", mirror.FormatNative)
	require.NoError(t, err)
	c, _ = reg.CORS(ctx, "bkt")
	assert.Equal(t, sdkRules, c, "a configuration's or a policy's change keeps the rules")
	_, p, _ := reg.Bucket(ctx, "bkt")
	assert.Equal(t, bucketconfig.Private, p)

	removed, err := reg.DeleteCORS(ctx, "bkt")
	require.NoError(t, err)
	assert.True(t, removed)
	c, _ = reg.CORS(ctx, "bkt")
	assert.Nil(t, c)
	_, p, _ = reg.Bucket(ctx, "bkt")
	assert.Equal(t, bucketconfig.Private, p, "a CORS delete keeps the policy")
	removed, err = reg.DeleteCORS(ctx, "bkt")
	require.NoError(t, err)
	assert.False(t, removed)
	assert.Equal(t, []string{"cors put", "put", "policy private", "delete", "cors delete"}, changes)

	assert.Error(t, reg.PutCORS(ctx, "bkt", &bucketconfig.CORS{}), "rules built by hand are validated")
}

// CORS rules put before a bucket was ever read here are read with the
// rest of it, policy included.
func TestCORSOfABucketNeverRead(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	require.NoError(t, store.PutPolicy(ctx, "bkt", bucketconfig.PublicRead))
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	require.NoError(t, reg.PutCORS(ctx, "bkt", sdkRules))
	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative,
		[]byte(`{"rules":[{"mode":"fetch","sourceUrl":"bos://bj.bcebos.com/src","resource":"*"}]}`)))
	_, p, err := reg.Bucket(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, bucketconfig.PublicRead, p, "the stored policy, not one the CORS put made up")
	c, _ := reg.CORS(ctx, "bkt")
	assert.Equal(t, sdkRules, c)
}

// flakyCORS is a store whose CORS rules can not be read while down is
// set, and whose stored record is whatever bad holds when set.
type flakyCORS struct {
	*dirstore.Store
	down atomic.Bool
	bad  []byte
}

func (f *flakyCORS) GetCORS(ctx context.Context, bucket string) ([]byte, error) {
	if f.down.Load() {
		return nil, errors.New("the store is down")
	}
	if f.bad != nil {
		return f.bad, nil
	}
	return f.Store.GetCORS(ctx, bucket)
}

// When the store can not be read, the rules read before stay in force, as
// a configuration does; a record that does not decode is no rules.
func TestUnreadableCORS(t *testing.T) {
	dir, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer dir.Close()
	ctx := context.Background()
	store := &flakyCORS{Store: dir}
	now := time.Unix(1_800_000_000, 0)
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger, Now: func() time.Time { return now }}
	require.NoError(t, reg.PutCORS(ctx, "bkt", sdkRules))
	c, _ := reg.CORS(ctx, "bkt")
	require.Equal(t, sdkRules, c)
	store.down.Store(true)
	now = now.Add(time.Hour)
	c, err = reg.CORS(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, sdkRules, c, "kept while the store is down")
	store.down.Store(false)
	store.bad = []byte(`{"rules":[{"allowedOrigins":["*"],"allowedMethods":["get"]}]}`)
	now = now.Add(time.Hour)
	c, err = reg.CORS(ctx, "bkt")
	require.NoError(t, err)
	assert.Nil(t, c, "a record that does not decode allows nothing")
}
