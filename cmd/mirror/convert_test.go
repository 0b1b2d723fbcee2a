package main

import (
	"strings"
	"testing"

	"github.com/mirrorkit/mirror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConvertToNativeAndBack(t *testing.T) {
	code, out, errOut := runCmd(t, "", "convert", "-from", "tos", "-rules", "../../testdata/providers/tos/async-backfill.json", "-to", "native")
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	native := writeDoc(t, out)
	code, tos, errOut := runCmd(t, "", "convert", "-rules", native, "-to", "tos")
	require.Equal(t, 0, code, errOut)
	a, err := mirror.Load([]byte(out), mirror.FormatNative)
	require.NoError(t, err)
	b, err := mirror.Load([]byte(tos), mirror.FormatTOS)
	require.NoError(t, err)
	for _, key := range []string{"dl/a.zip", "x.mp4", "other"} {
		for _, host := range []string{"", "cdn.example.com"} {
			req := &mirror.Request{Key: key, Host: host}
			da, errA := a.Resolve(req)
			db, errB := b.Resolve(req)
			assert.Equal(t, errA == nil, errB == nil, key)
			if errA == nil {
				assert.Equal(t, da.URLs, db.URLs, key)
				assert.Equal(t, da.Mode, db.Mode, key)
			}
		}
	}
}

func TestConvertOBSNote(t *testing.T) {
	code, out, errOut := runCmd(t, "", "convert", "-from", "obs", "-rules", "../../testdata/providers/obs/c-sdk.json", "-to", "obs")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"agency": "`+mirror.OBSAgencyPlaceholder+`"`)
	assert.Equal(t, "mirror: note: each rule's redirect.agency is \""+mirror.OBSAgencyPlaceholder+
		"\": set it to the IAM agency OBS writes the mirrored objects with\n", errOut)
}

func TestConvertRefused(t *testing.T) {
	code, out, errOut := runCmd(t, "", "convert", "-from", "obs", "-rules", "../../testdata/providers/obs/c-sdk.json", "-to", "tos")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Equal(t, []string{
		`mirror: rules[0].failoverOn: is [500 502 404 timeout connection]; TOS fails over on 5xx, timeouts and connection failures, and says no other: give failoverOn ["5xx", "timeout", "connection"]`,
		`mirror: rules[1].pick: ordered: TOS picks among its primaries at random`,
		`mirror: rules[1].rewrite.key: TOS has no whole-key replacement`,
	}, strings.Split(strings.TrimSpace(errOut), "\n"))

	doc := writeDoc(t, `{"rules": [{"mode": "fetch", "sourceUrl": "https://a.example.com", "resource": "a/*"}]}`)
	code, _, errOut = runCmd(t, "", "convert", "-rules", doc, "-to", "bogus")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `mirror: format: "bogus" is not a format a document can be written in`)
	code, _, errOut = runCmd(t, "", "convert", "-rules", doc)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "mirror: -to is required")
	code, _, errOut = runCmd(t, "", "convert", "-rules", writeDoc(t, `{"rules": [`), "-to", "native")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "mirror: document: line 1")
}

func TestConvertStdinAndBOS(t *testing.T) {
	code, out, errOut := runCmd(t, `{"bucketMirroringConfiguration": [{"mode": "fetch", "sourceUrl": "http://a.example.com", "resource": "img/*"}]}`,
		"convert", "-rules", "-", "-to", "qingstor")
	assert.Equal(t, 2, code, out)
	assert.Equal(t, "mirror: rules[0].resource: \"img/*\": QingStor's rule covers every key (\"*\")\n", errOut)
	code, out, errOut = runCmd(t, `{"source_site": "https://src.example.com"}`, "convert", "-rules", "-", "-to", "bos")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "{\n  \"bucketMirroringConfiguration\": [\n    {\n      \"mode\": \"fetch\",\n      \"sourceUrl\": \"https://src.example.com\",\n      \"resource\": \"*\"\n    }\n  ]\n}\n", out)
}
