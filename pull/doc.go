// Package pull is the origin-pull half of a mirror gateway: when an object
// is missing, it fetches it from the origin a mirror.Decision names, once
// for all the clients that ask, streams it to them as it arrives, and
// commits it atomically into a Store, from which it is served ever after.
//
// A Fetcher runs the fetches: one flight per (bucket, key, first origin
// URL), detached from any client, spooled to disk, with failover from the
// primary origin to the backup, timeouts and size limits, verification of
// the length and Content-MD5, and a dial guard that refuses loopback,
// private and metadata addresses after DNS (mirror.NonRoutable). A Handler
// serves the object path of a gateway over a Store and a Fetcher. A
// DirStore keeps objects in a local directory. Every field has a safe
// default: a zero Fetcher or Handler with its Store set works.
//
// docs/SERVING.md in the repository is the contract this package follows.
package pull
