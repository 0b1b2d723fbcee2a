// Package configapi answers the providers' own bucket-configuration APIs,
// so that their SDKs configure a mirror gateway: Baidu BOS
// PutBucketMirroring, GetBucketMirroring and DeleteBucketMirroring
// (PUT|GET|DELETE /BUCKET?mirroring, signed with BCE auth v1), and QingStor
// PUT|GET|DELETE Bucket External Mirror (/BUCKET?mirror, signed "QS AK:SIG").
//
// A Registry keeps each bucket's configuration durable in a ConfigStore and
// its compiled engine in memory, swapped whole, and reloads what another
// gateway sharing the store changed within a TTL. A Handler checks each
// request's signature against Credentials and answers with each provider's
// own status codes and error bodies.
//
// docs/SERVING.md §4 in the repository is the contract this package follows.
package configapi
