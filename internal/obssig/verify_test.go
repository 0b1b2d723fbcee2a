package obssig

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
	"github.com/mirrorkit/mirror/internal/httpapi"
	"github.com/mirrorkit/mirror/internal/sigtest"
	"github.com/stretchr/testify/assert"
)

// signedHeader is a PUT of /my-bucket?mirrorBackToSource (virtual-host:
// my-bucket.gw.test/?mirrorBackToSource) with a Content-MD5, a
// Content-Type and a metadata header, signed in form f at at under sk by
// the SDK's obs.GetAuthorization.
func signedHeader(t testing.TB, f *form, virtual bool, sk string) *http.Request {
	target := "http://" + domain + "/my-bucket?mirrorBackToSource"
	if virtual {
		target = "http://my-bucket." + domain + "/?mirrorBackToSource"
	}
	r := sigtest.Received(t, "PUT", target, http.Header{
		"Date":         {at.Format(http.TimeFormat)},
		"Content-Type": {"application/json"},
		"Content-Md5":  {"1B2M2Y8AsgTpgAmYgAGdvA=="},
	})
	r.Header.Set(f.prefix+"meta-a", "b")
	h := map[string][]string{"host": {r.Host}}
	for k, v := range r.Header {
		h[k] = v
	}
	sig := obs.GetAuthorization(testAK, sk, r.Method, "my-bucket", "", r.URL.RawQuery, h)["Signature"]
	r.Header.Set("Authorization", f.auth+testAK+":"+sig)
	return r
}

// signedQuery is a GET of /my-bucket/a b.txt?response-content-type=… as an
// OBS presigned URL expiring at expires, signed by obs.GetAuthorization.
func signedQuery(t testing.TB, expires time.Time) *http.Request {
	e := strconv.FormatInt(expires.Unix(), 10)
	query := "response-content-type=text%2Fplain&other=x&AccessKeyId=" + testAK + "&Expires=" + e
	sig := obs.GetAuthorization(testAK, testSK, "GET", "my-bucket", "a%20b.txt", query+"&Signature=x",
		map[string][]string{"host": {domain}})["Signature"] // URL-encoded
	return sigtest.Received(t, "GET", "http://"+domain+"/my-bucket/a%20b.txt?"+query+"&Signature="+sig, nil)
}

// setQuery sets (or, with "", deletes) a query parameter, keeping the rest.
func setQuery(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		if value == "" {
			q.Del(name)
		} else {
			q.Set(name, value)
		}
		r.URL.RawQuery = q.Encode()
	}
}

func setHeader(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func TestRefusals(t *testing.T) {
	obsHeader := func(t *testing.T) *http.Request { return signedHeader(t, obsForm, false, testSK) }
	awsHeader := func(t *testing.T) *http.Request { return signedHeader(t, awsForm, false, testSK) }
	virtual := func(t *testing.T) *http.Request { return signedHeader(t, obsForm, true, testSK) }
	query := func(t *testing.T) *http.Request { return signedQuery(t, at.Add(time.Hour)) }
	none := func(*http.Request) {}
	auth := func(edit func(string) string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", edit(r.Header.Get("Authorization"))) }
	}
	for _, c := range []struct {
		sigtest.Case
		verify func(*http.Request, string, func(string) (string, bool), time.Time) (string, *httpapi.Error)
		bucket string
	}{
		{sigtest.Case{Name: "OBS header", Req: obsHeader, Edit: none, Now: at, Want: -1}, VerifyIn, ""},
		{sigtest.Case{Name: "OBS header, config", Req: obsHeader, Edit: none, Now: at, Want: -1}, VerifyHeader, ""},
		{sigtest.Case{Name: "AWS header, config", Req: awsHeader, Edit: none, Now: at, Want: -1}, VerifyHeader, ""},
		{sigtest.Case{Name: "AWS header, object path", Req: awsHeader, Edit: none, Now: at, Want: httpapi.MalformedAuthorization}, VerifyIn, ""},
		{sigtest.Case{Name: "virtual host", Req: virtual, Edit: none, Now: at, Want: -1}, VerifyHeader, "my-bucket"},
		{sigtest.Case{Name: "virtual host taken path-style", Req: virtual, Edit: none, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "virtual host, another bucket", Req: virtual, Edit: none, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, "other-bucket"},
		{sigtest.Case{Name: "presigned", Req: query, Edit: none, Now: at, Want: -1}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned, config", Req: query, Edit: none, Now: at, Want: httpapi.AccessDenied}, VerifyHeader, ""},

		{sigtest.Case{Name: "not signed", Req: obsHeader, Edit: func(r *http.Request) { r.Header.Del("Authorization") }, Now: at, Want: httpapi.AccessDenied}, VerifyHeader, ""},
		{sigtest.Case{Name: "other scheme", Req: obsHeader, Edit: setHeader("Authorization", "Bearer x"), Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "no colon", Req: obsHeader, Edit: setHeader("Authorization", "OBS "+testAK), Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "no key", Req: obsHeader, Edit: auth(func(a string) string { return strings.Replace(a, testAK, "", 1) }), Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "no signature", Req: obsHeader, Edit: setHeader("Authorization", "OBS "+testAK+":"), Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "two Authorization headers", Req: obsHeader, Edit: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "header and query", Req: obsHeader, Edit: func(r *http.Request) { r.URL.RawQuery += "&Signature=x&AccessKeyId=y" }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "header and query, object path", Req: query, Edit: setHeader("Authorization", "OBS a:b"), Now: at, Want: httpapi.MalformedAuthorization}, VerifyIn, ""},
		{sigtest.Case{Name: "unknown key", Req: obsHeader, Edit: auth(func(a string) string { return strings.Replace(a, testAK, "NOBODY", 1) }), Now: at, Want: httpapi.InvalidAccessKeyID}, VerifyHeader, ""},
		{sigtest.Case{Name: "wrong secret", Req: func(t *testing.T) *http.Request { return signedHeader(t, obsForm, false, "not-the-secret") }, Edit: none, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "wrong secret, AWS", Req: func(t *testing.T) *http.Request { return signedHeader(t, awsForm, false, "not-the-secret") }, Edit: none, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},

		{sigtest.Case{Name: "stale", Req: obsHeader, Edit: none, Now: at.Add(16 * time.Minute), Want: httpapi.RequestExpired}, VerifyHeader, ""},
		{sigtest.Case{Name: "from the future", Req: obsHeader, Edit: none, Now: at.Add(-16 * time.Minute), Want: httpapi.RequestExpired}, VerifyHeader, ""},
		{sigtest.Case{Name: "just within the skew", Req: obsHeader, Edit: none, Now: at.Add(15 * time.Minute), Want: -1}, VerifyHeader, ""},
		{sigtest.Case{Name: "no date", Req: obsHeader, Edit: func(r *http.Request) { r.Header.Del("Date") }, Now: at, Want: httpapi.RequestExpired}, VerifyHeader, ""},
		{sigtest.Case{Name: "bad date", Req: obsHeader, Edit: setHeader("Date", "yesterday"), Now: at, Want: httpapi.RequestExpired}, VerifyHeader, ""},
		{sigtest.Case{Name: "stale x-obs-date", Req: obsHeader, Edit: setHeader("X-Obs-Date", at.Add(-time.Hour).Format(http.TimeFormat)), Now: at, Want: httpapi.RequestExpired}, VerifyHeader, ""},
		{sigtest.Case{Name: "x-obs-date unsigned in the AWS form", Req: awsHeader, Edit: setHeader("X-Obs-Date", at.Add(-time.Hour).Format(http.TimeFormat)), Now: at, Want: -1}, VerifyHeader, ""},
		{sigtest.Case{Name: "fresh x-obs-date, unsigned", Req: obsHeader, Edit: setHeader("X-Obs-Date", at.Format(http.TimeFormat)), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "two dates", Req: obsHeader, Edit: func(r *http.Request) { r.Header.Add("Date", r.Header.Get("Date")) }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "two Content-MD5", Req: obsHeader, Edit: func(r *http.Request) { r.Header.Add("Content-Md5", "x") }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},

		{sigtest.Case{Name: "method", Req: obsHeader, Edit: func(r *http.Request) { r.Method = "DELETE" }, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "path", Req: obsHeader, Edit: func(r *http.Request) { r.URL.Path = "/other-bucket" }, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "path spelt otherwise", Req: obsHeader, Edit: func(r *http.Request) { r.URL.RawPath = "/my%2Dbucket" }, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "Content-MD5", Req: obsHeader, Edit: setHeader("Content-Md5", "XUFAKrxLKna5cZ2REBfFkg=="), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "no Content-MD5", Req: obsHeader, Edit: func(r *http.Request) { r.Header.Del("Content-Md5") }, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "Content-Type", Req: obsHeader, Edit: setHeader("Content-Type", "text/plain"), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "signed header", Req: obsHeader, Edit: setHeader("X-Obs-Meta-A", "c"), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "added x-obs- header", Req: obsHeader, Edit: setHeader("X-Obs-Acl", "public-read"), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "added x-amz- header, AWS", Req: awsHeader, Edit: setHeader("X-Amz-Acl", "public-read"), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "added sub-resource", Req: obsHeader, Edit: setQuery("acl", "x"), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "added x-obs- parameter", Req: obsHeader, Edit: setQuery("x-obs-thing", "1"), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "sub-resource removed", Req: obsHeader, Edit: setQuery("mirrorBackToSource", ""), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyHeader, ""},
		{sigtest.Case{Name: "another parameter, unsigned by design", Req: obsHeader, Edit: setQuery("prefix", "x"), Now: at, Want: -1}, VerifyHeader, ""},
		{sigtest.Case{Name: "sub-resource twice", Req: obsHeader, Edit: func(r *http.Request) { r.URL.RawQuery += "&mirrorBackToSource" }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "query does not parse", Req: obsHeader, Edit: func(r *http.Request) { r.URL.RawQuery += "&a=%zz" }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},
		{sigtest.Case{Name: "header in two cases", Req: obsHeader, Edit: func(r *http.Request) { r.Header["x-obs-meta-a"] = []string{"b"} }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyHeader, ""},

		{sigtest.Case{Name: "presigned expired", Req: query, Edit: none, Now: at.Add(time.Hour + time.Second), Want: httpapi.RequestExpired}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned at its end", Req: query, Edit: none, Now: at.Add(time.Hour), Want: -1}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned a year ahead", Req: func(t *testing.T) *http.Request { return signedQuery(t, at.AddDate(1, 0, 0)) }, Edit: none, Now: at, Want: httpapi.RequestExpired}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned Expires changed", Req: query, Edit: setQuery("Expires", strconv.FormatInt(at.Add(2*time.Hour).Unix(), 10)), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned Expires not a number", Req: query, Edit: setQuery("Expires", "0x10"), Now: at, Want: httpapi.MalformedAuthorization}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned Expires with a leading zero", Req: query, Edit: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "Expires=", "Expires=0", 1) }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned without Signature", Req: query, Edit: setQuery("Signature", ""), Now: at, Want: httpapi.MalformedAuthorization}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned Signature twice", Req: query, Edit: func(r *http.Request) { r.URL.RawQuery += "&Signature=x" }, Now: at, Want: httpapi.MalformedAuthorization}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned unknown key", Req: query, Edit: setQuery("AccessKeyId", "NOBODY"), Now: at, Want: httpapi.InvalidAccessKeyID}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned sub-resource changed", Req: query, Edit: setQuery("response-content-type", "text/html"), Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned path", Req: query, Edit: func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/my-bucket/other", "" }, Now: at, Want: httpapi.SignatureDoesNotMatch}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned, S3's version 2", Req: query, Edit: func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "AccessKeyId", "AWSAccessKeyId", 1)
		}, Now: at, Want: httpapi.AccessDenied}, VerifyIn, ""},
		{sigtest.Case{Name: "presigned, another parameter", Req: query, Edit: setQuery("other", "y"), Now: at, Want: -1}, VerifyIn, ""},
	} {
		t.Run(c.Name, func(t *testing.T) {
			r := c.Req(t)
			c.Edit(r)
			sigtest.Expect(t, func() (string, *httpapi.Error) {
				ak, e := c.verify(r, c.bucket, secrets, c.Now)
				if e != nil {
					assert.Less(t, len(e.Message), 200)
				}
				return ak, e
			}, c.Want, testAK)
		})
	}
}

func TestClaims(t *testing.T) {
	for _, c := range []struct {
		auth, query string
		want        bool
	}{
		{"OBS AK:sig", "", true},
		{"OBS ", "", true},
		{"AWS AK:sig", "", false},
		{"AWS4-HMAC-SHA256 Credential=x", "", false},
		{"QS AK:sig", "", false},
		{"", "AccessKeyId=AK&Expires=1&Signature=x", true},
		{"", "AccessKey%49d=AK&Signature=x", true},
		{"", "AWSAccessKeyId=AK&Expires=1&Signature=x", false},
		{"", "accesskeyid=AK&signature=x", false},
		{"", "access_key_id=AK&signature=x", false},
		{"", "AccessKeyId=AK", false},
		{"", "mirrorBackToSource", false},
		{"", "", false},
	} {
		r := sigtest.Received(t, "GET", "http://"+domain+"/b/k?"+c.query, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		assert.Equal(t, c.want, Claims(r), "%q %q", c.auth, c.query)
	}
}

// A sub-resource's value is signed as it decodes, its name as the SDK
// escapes it: "a b" and "a+b" are one value, a name with a space is
// escaped, so the same request spelt two ways verifies both ways.
func TestQuerySpellings(t *testing.T) {
	r := signedHeader(t, obsForm, false, testSK)
	for _, q := range []string{"mirrorBackToSource=", "mirrorBackToSource"} {
		r.URL.RawQuery = q
		_, e := VerifyHeader(r, "", secrets, at)
		assert.Nil(t, e, q)
	}
	u, _ := url.Parse("http://" + domain + "/my-bucket/k?response-content-type=a%20b")
	a := sigtest.Received(t, "GET", u.String(), http.Header{"Date": {at.Format(http.TimeFormat)}})
	a.Header.Set("Authorization", "OBS "+testAK+":"+getAuthorization(a, "my-bucket", "k"))
	a.URL.RawQuery = "response-content-type=a+b"
	_, e := VerifyHeader(a, "", secrets, at)
	assert.Nil(t, e)
}
