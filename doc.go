// Package mirror compiles object-storage mirror back-to-origin rules and
// answers, on the hot path of a storage server or proxy: "this key is not
// in the bucket: where do I fetch it from (or redirect to), with which URL
// and which request headers?"
//
// Rules come from the providers' own documents (Baidu BOS
// PutBucketMirroring, QingStor PUT Bucket External Mirror) or a native
// document with a few extensions; see [Load], [ParseDocument] and
// [Compile]. Every problem of a document is reported at once, each naming
// the document field it is about ([CompileError], [FieldError]).
//
// A compiled [Engine] matches a key by walking it once through a trie of
// the rules' literal prefixes, so the cost depends on the key's length and
// not on the number of rules; of the rules that cover a key the first
// listed wins ([Engine.Match]). [Engine.Resolve] then rewrites the key
// into the origin key (prefix, suffix, fixedKey, v2 prefixReplace), writes
// the origin URL byte by byte with every byte but A-Z a-z 0-9 - . _ ~ /
// percent-encoded, passes on the query string without the client's
// credentials, and works out the headers to send. No key, query or header
// can move a request off its configured origin: see docs/SEMANTICS.md for
// the whole contract.
package mirror
