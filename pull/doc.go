// Package pull is the origin pull of a mirror gateway: when an object is
// missing, a Fetcher fetches it from the origin a mirror.Decision names,
// once for all the clients that ask, streams it to them as it arrives, and
// commits it atomically into a Store, from which it is served ever after.
//
// The files follow the fetch: fetcher.go (the Fetcher, its defaults, the
// flight table, the negative cache, shutdown), flight.go (one fetch shared
// by its readers), origin.go (the transport and its dial guard, the origin
// request and its bos:// signature, failover), s3origin.go (the s3://
// signature), body.go (spool, copy,
// verify, hash), download.go (a client's share of a fetch), store.go (the
// Store contract every store implements), hooks.go (what a Fetcher tells
// metrics). Every field has a safe default: a zero Fetcher with its Store
// set works. The stores are packages of their own (dirstore, s3store), and
// so is the object path that uses a Fetcher (objectapi).
//
// docs/SERVING.md §3 in the repository is the contract this package
// follows.
package pull
