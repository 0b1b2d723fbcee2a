// Package httpapi is the plumbing every S3-style handler of the gateway
// shares: finding a request's bucket and key, its request id, and turning
// a failure into the answer of the API it was asked in.
//
// A failure is named once, as a Failure, wherever it happens: in the
// object path, in a configuration API, in a signature check. Each API
// speaks a Dialect, and each Dialect has one table giving every Failure
// its status and code, the way versitygw's s3err does for S3. Adding an
// API is adding a table; adding a failure is adding a row to each.
package httpapi
