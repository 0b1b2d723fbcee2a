package bucketconfig_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
	"github.com/mirrorkit/mirror/dirstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A bucket with no stored policy is private while its rules can reach a
// bos:// origin or send an origin credentials, public-read otherwise.
func TestDefaultPolicy(t *testing.T) {
	for rule, want := range map[string]bucketconfig.Policy{
		`"sourceUrl":"https://o.example.com"`:                                                                    bucketconfig.PublicRead,
		`"sourceUrl":"bos://bj.bcebos.com/src"`:                                                                  bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","backSourceUrl":"bos://bj.bcebos.com/src"`:                          bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"Authorization","headerValue":"x"}]`: bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"Cookie","headerValue":"s=1"}]`:      bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"X-Api-Key","headerValue":"k"}]`:     bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"X-Auth-Token","headerValue":"k"}]`:  bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"X-Tenant","headerValue":"a"}]`:      bucketconfig.PublicRead,
		// A review of issue 16 found these public.
		`"sourceUrl":"BOS://bj.bcebos.com/src"`:                                                                        bucketconfig.Private,
		`"sourceUrl":"Bos://bj.bcebos.com/src"`:                                                                        bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"X-Jwt","headerValue":"k"}]`:               bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"X-Api-Pass","headerValue":"k"}]`:          bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"X-Hmac","headerValue":"k"}]`:              bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","customHeaders":[{"headerName":"Cf-Access-Client-Id","headerValue":"k"}]`: bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","passHeaders":["X-Jwt"]`:                                                  bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","passHeaders":["*"]`:                                                      bucketconfig.Private,
		`"sourceUrl":"https://o.example.com","passHeaders":["Accept-Language"]`:                                        bucketconfig.PublicRead,
	} {
		eng, err := mirror.Load([]byte(`{"rules":[{"mode":"fetch","resource":"*",`+rule+`}]}`), mirror.FormatNative)
		require.NoError(t, err, rule)
		assert.Equal(t, want, bucketconfig.DefaultPolicy(eng), rule)
	}
	assert.Equal(t, bucketconfig.PublicRead, bucketconfig.DefaultPolicy(nil))
}

// The policy is a record of its own: a configuration's put or delete never
// changes it, every registry on the store agrees, and an explicit
// public-read overrides what the rules would make the default.
func TestPolicyIsARecordOfItsOwn(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	private := []byte(`{"rules":[{"mode":"fetch","sourceUrl":"bos://bj.bcebos.com/src","resource":"*"}]}`)

	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative, private))
	_, p, err := reg.Bucket(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, bucketconfig.Private, p, "the default, from the rules")

	require.NoError(t, reg.SetPolicy(ctx, "bkt", bucketconfig.PublicRead))
	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative, private))
	_, p, _ = reg.Bucket(ctx, "bkt")
	assert.Equal(t, bucketconfig.PublicRead, p, "a put kept the policy")
	_, err = reg.Delete(ctx, "bkt", mirror.FormatNative)
	require.NoError(t, err)
	stored, err := store.GetPolicy(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, bucketconfig.PublicRead, stored, "a delete kept the record")

	other := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	require.NoError(t, other.Put(ctx, "bkt", mirror.FormatNative, private))
	_, p, _ = other.Bucket(ctx, "bkt")
	assert.Equal(t, bucketconfig.PublicRead, p, "another gateway on the store agrees")
	assert.Error(t, reg.SetPolicy(ctx, "bkt", "public-read-write"), "an unknown policy is refused")
}

// brokenPolicies is a store whose policies can not be read.
type brokenPolicies struct{ *dirstore.Store }

func (brokenPolicies) GetPolicy(context.Context, string) (bucketconfig.Policy, error) {
	return "", errors.New("the store is down")
}

// A policy that can not be read counts as private, whatever the rules.
func TestUnreadablePolicyIsPrivate(t *testing.T) {
	dir, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer dir.Close()
	ctx := context.Background()
	require.NoError(t, dir.PutPolicy(ctx, "bkt", bucketconfig.PublicRead))
	reg := &bucketconfig.Registry{Store: brokenPolicies{dir}, Logger: quietLogger}
	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative, []byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://o.example.com","resource":"*"}]}`)))
	_, p, err := reg.Bucket(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, bucketconfig.Private, p)
	_, p, _ = reg.Bucket(ctx, "never-configured")
	assert.Equal(t, bucketconfig.Private, p)
}

// Review of issue 16, F2: the objects fetched while a bucket's rules made
// it private became public once the rules went. The private default is
// sticky: a record is stored with the rules, and stays.
func TestPrivateByDefaultIsSticky(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger}
	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative,
		[]byte(`{"rules":[{"mode":"fetch","sourceUrl":"bos://bj.bcebos.com/src","resource":"*"}]}`)))
	stored, err := store.GetPolicy(ctx, "bkt")
	require.NoError(t, err)
	assert.Equal(t, bucketconfig.Private, stored, "a record was stored")
	require.NoError(t, reg.Put(ctx, "bkt", mirror.FormatNative,
		[]byte(`{"rules":[{"mode":"fetch","sourceUrl":"https://public.example.com","resource":"*"}]}`)))
	_, p, _ := reg.Bucket(ctx, "bkt")
	assert.Equal(t, bucketconfig.Private, p, "harmless rules do not open it")
	_, err = reg.Delete(ctx, "bkt", mirror.FormatNative)
	require.NoError(t, err)
	_, p, _ = reg.Bucket(ctx, "bkt")
	assert.Equal(t, bucketconfig.Private, p, "nor does a delete")
	require.NoError(t, reg.SetPolicy(ctx, "bkt", bucketconfig.PublicRead))
	_, p, _ = reg.Bucket(ctx, "bkt")
	assert.Equal(t, bucketconfig.PublicRead, p, "only an explicit policy")
}

// Review of issue 16, F3: a stored configuration that does not compile
// here (put by a gateway with other options) counted as none, so the
// bucket was public. It is private.
func TestUncompilableConfigIsPrivate(t *testing.T) {
	store, err := dirstore.Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	require.NoError(t, store.PutConfig(ctx, "bkt", mirror.FormatNative,
		[]byte(`{"rules":[{"mode":"fetch","sourceUrl":"http://127.0.0.1:9","resource":"*"}]}`)))
	reg := &bucketconfig.Registry{Store: store, Logger: quietLogger} // private origins not allowed here
	eng, p, err := reg.Bucket(ctx, "bkt")
	require.NoError(t, err)
	assert.Nil(t, eng)
	assert.Equal(t, bucketconfig.Private, p)
}
