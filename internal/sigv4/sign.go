package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// signature is the hex SigV4 signature of a canonical request, signed at
// stamp (YYYYMMDDThhmmssZ) within scope, under secret.
func signature(secret string, s scope, stamp, canonical string) string {
	key := hmacSHA256([]byte("AWS4"+secret), s.date)
	key = hmacSHA256(key, s.region)
	key = hmacSHA256(key, Service)
	key = hmacSHA256(key, "aws4_request")
	hash := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(hmacSHA256(key,
		Algorithm+"\n"+stamp+"\n"+s.String()+"\n"+hex.EncodeToString(hash[:])))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
