// Package bucketconfig keeps each bucket's mirror configuration: the
// document as it was put, the format it was put in, and its compiled
// mirror.Engine. A Registry holds them durably in a Store shared by a
// fleet of gateways, swaps each bucket's engine whole, and reads again
// within a TTL what another gateway changed. Beside each configuration
// it keeps the bucket's read policy (Policy) and its CORS rules (CORS),
// records of their own.
//
// Both halves of a gateway depend on it and not on each other: the object
// path asks a Registry for a bucket's engine, the configuration APIs put
// and delete documents through it (docs/SERVING.md §4.4).
package bucketconfig
