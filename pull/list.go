package pull

import "context"

// Lister is a Store that lists what it holds: S3's ListObjects and
// ListBuckets are answered from it (docs/SERVING.md §1). Both stores of
// this module are Listers; a gateway over a Store that is not answers
// listings 501 NotImplemented.
type Lister interface {
	// List returns one page of a bucket's committed objects: never one
	// being written or aborted, and an object committed before List began
	// is in it (when it sorts in the page). A bucket with no objects is an
	// empty page, not an error.
	List(ctx context.Context, bucket string, q ListQuery) (ListPage, error)
	// Buckets names, sorted, the buckets that hold objects or a stored
	// configuration.
	Buckets(ctx context.Context) ([]string, error)
}

// ListQuery selects a page, as S3's ListObjectsV2 does. Keys sort by their
// bytes.
type ListQuery struct {
	// Prefix keeps the keys that start with it.
	Prefix string
	// Delimiter, when set, rolls the keys that hold it after Prefix into
	// one common prefix each: Prefix, the key's bytes up to the
	// delimiter's first occurrence after Prefix, and the delimiter.
	Delimiter string
	// After keeps the keys, and common prefixes, that sort after it; and
	// when After is itself a common prefix (it starts with Prefix and
	// ends with the first Delimiter after it), none of the keys rolled
	// into it either, so that a page may continue after a prefix.
	After string
	// Limit is the most objects and common prefixes a page holds, at
	// least 1 (a store may hold a page to 1000).
	Limit int
}

// ListPage is a page of a listing: objects and common prefixes, each in
// key order; together at most the query's Limit.
type ListPage struct {
	Objects []ListEntry
	// Prefixes are the common prefixes, when the query has a Delimiter.
	Prefixes []string
	// Truncated says more follow: the next page is the same query with
	// After set to Next, the last key or common prefix of this one.
	Truncated bool
	Next      string
}

// ListEntry is a listed object. Its Info has Size, ETag, LastModified and
// StorageClass; its Header may be nil.
type ListEntry struct {
	Key  string
	Info ObjectInfo
}
