// Package mirror compiles object-storage mirror back-to-origin rules and
// answers, on the hot path of a storage server or proxy: "this key is not
// in the bucket: where do I fetch it from (or redirect to), with which URL
// and which request headers?"
//
// Rules come from the providers' own documents (Baidu BOS
// PutBucketMirroring, QingStor PUT Bucket External Mirror) or a native
// document with a few extensions, through [Load] or [Compile], or a
// [Compiler] that carries options. Every problem of a document is reported
// at once, each naming the document field it is about ([CompileError],
// [FieldError]).
//
// A compiled [Engine] matches a key by walking it once through a trie of
// the rules' literal prefixes, with tries of their literal suffixes at its
// nodes; glob resources mean exactly what github.com/gobwas/glob says and
// run as automata, in time linear in the key. Of the rules that cover a
// key the first listed wins ([Engine.Match]). [Engine.Resolve] then
// rewrites the key into the origin key (prefix, suffix, fixedKey, v2
// prefixReplace), writes the origin URL byte by byte with every byte but
// A-Z a-z 0-9 - . _ ~ / percent-encoded, passes on the query string
// without the client's credentials, and works out the headers to send.
// The [Decision] hands out each origin URL taken apart ([Origin]), so that
// an embedder dials it without parsing a string; a proxy that reuses
// memory resolves into its own Decision with [Engine.ResolveTo].
//
// Off the request path, [Engine.Explain] tells why a key goes where it
// goes, rule by rule and header by header, and [Engine.Lint] flags rules
// no key can reach and options that do nothing or are risky.
//
// No key, query or header can move a request off its configured origin,
// and no origin may be a loopback, private or metadata address unless the
// Compiler allows it ([NonRoutable] is the table, for the code that
// dials). The package does no I/O. docs/SEMANTICS.md is the whole
// contract.
package mirror
