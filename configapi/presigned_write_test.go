package configapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func presignedDelete(t *testing.T, s *apiServer, bucket string, at time.Time) string {
	req, err := http.NewRequest("DELETE", s.URL+"/"+bucket+"?cors", nil)
	require.NoError(t, err)
	creds := aws.Credentials{AccessKeyID: "ADMIN", SecretAccessKey: "admin-secret"}
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "604800")
	req.URL.RawQuery = q.Encode()
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", at)
	require.NoError(t, err)
	return u
}

// Review of issue 17: a presigned DELETE ?cors was taken, and its replay
// key was the empty Authorization header, shared by every presigned write.
// Every configuration write is now refused unless signed in its header.
func TestPresignedWritesAreRefused(t *testing.T) {
	s := newCORSServer(t, false)
	ctx := context.Background()
	rules := mustCORS(t, `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`)
	require.NoError(t, s.registry.PutCORS(ctx, "bucket-a", rules))
	for range 2 {
		resp, err := http.DefaultClient.Do(mustRequest(t, "DELETE", presignedDelete(t, s, "bucket-a", time.Now()), ""))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 403, resp.StatusCode)
		c, err := s.registry.CORS(ctx, "bucket-a")
		require.NoError(t, err)
		assert.NotNil(t, c, "the rules are still there")
	}
}
