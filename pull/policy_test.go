package pull

import (
	"context"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decideDoc resolves key under a native document.
func decideDoc(t *testing.T, doc, key string) *mirror.Decision {
	t.Helper()
	eng, err := mirror.Compiler{AllowPrivateOrigins: true}.Load([]byte(doc), mirror.FormatNative)
	require.NoError(t, err)
	d, err := eng.Resolve(&mirror.Request{Key: key})
	require.NoError(t, err)
	return d
}

// Weighted primaries are asked first in proportion to their weights, over
// 10,000 draws, within 4.5 standard deviations; random ones uniformly;
// backups always after the primaries, in order.
func TestOriginOrderFollowsThePick(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	weighted := decideDoc(t, `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["http://a.example.com","http://b.example.com","http://c.example.com"],
		"sourceWeights":[6,3,1],"backSourceUrls":["http://z.example.com"]}]}`, "k")
	random := decideDoc(t, `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["http://a.example.com","http://b.example.com"],"pick":"random"}]}`, "k")
	ordered := decideDoc(t, `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["http://a.example.com","http://b.example.com"]}]}`, "k")
	const draws = 10000
	first := [3]int{}
	randomFirst := 0
	for range draws {
		o := originOrder(weighted, rng.IntN)
		require.Len(t, o, 4)
		require.Equal(t, 3, o[3], "the backup last")
		require.ElementsMatch(t, []int{0, 1, 2}, o[:3])
		first[o[0]]++
		if originOrder(random, rng.IntN)[0] == 1 {
			randomFirst++
		}
		require.Equal(t, []int{0, 1}, originOrder(ordered, rng.IntN))
	}
	for i, w := range []float64{0.6, 0.3, 0.1} {
		sd := 4.5 * draws * math.Sqrt(w*(1-w)/draws)
		assert.InDelta(t, w*draws, float64(first[i]), sd, "primary %d first", i)
	}
	assert.InDelta(t, draws/2, float64(randomFirst), 4.5*draws*math.Sqrt(0.25/draws))
}

// A status the rule's failoverOn lists moves on to the next origin; one
// it does not list ends the fetch, as the default set would.
func TestFailoverOnListedStatuses(t *testing.T) {
	var first, second atomic.Int64
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first.Add(1)
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer forbidden.Close()
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		second.Add(1)
		_, _ = io.WriteString(w, "from the backup")
	}))
	defer good.Close()
	f := &Fetcher{Store: nullStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.init()
	defer f.Shutdown(context.Background())
	ask := func(doc string) (*http.Response, error) {
		d := decideDoc(t, doc, "k")
		return f.ask(context.Background(), "bkt", d, nil, &FetchResult{})
	}

	resp, err := ask(`{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + forbidden.URL + `"],"backSourceUrls":["` + good.URL + `"],"failoverOn":["403","5xx"]}]}`)
	require.NoError(t, err, "a listed 403 fails over")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "from the backup", string(b))

	_, err = ask(`{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["` + forbidden.URL + `"],"backSourceUrls":["` + good.URL + `"],"failoverOn":["5xx"]}]}`)
	var fe *FetchError
	require.ErrorAs(t, err, &fe, "an unlisted 403 does not")
	assert.Equal(t, OutcomeFailed, fe.Outcome)

	_, err = ask(`{"rules":[{"mode":"fetch","sourceUrl":"` + forbidden.URL + `","backSourceUrl":"` + good.URL + `","resource":"*"}]}`)
	require.ErrorAs(t, err, &fe, "nor in the default set")
	assert.Equal(t, int64(3), first.Load())
	assert.Equal(t, int64(1), second.Load())
}

// A 404 a rule lists moves on while an origin is left; the last origin's
// 404 is the object's.
func TestA404ListedFailsOverThenIsTheAnswer(t *testing.T) {
	var hits atomic.Int64
	nf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer nf.Close()
	f := &Fetcher{Store: nullStore{}, AllowPrivateOrigins: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.init()
	defer f.Shutdown(context.Background())
	d := decideDoc(t, `{"rules":[{"mode":"fetch","resource":"*","sourceUrls":["`+nf.URL+`/a"],"backSourceUrls":["`+nf.URL+`/b"],"failoverOn":["4xx"]}]}`, "k")
	_, err := f.ask(context.Background(), "bkt", d, nil, &FetchResult{})
	var fe *FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, OutcomeNotFound, fe.Outcome)
	assert.Equal(t, int64(2), hits.Load(), "both origins asked")
}
