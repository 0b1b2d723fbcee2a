package pull

import "os"

// FileObject is an Object whose bytes lie in a file, so that a server may
// send them with sendfile(2) instead of reading them into memory and
// writing them out again: the object's bytes [0, Size) are the bytes
// [base, base+Size) of f.
//
// f belongs to the object and is valid until its Close; an Object, and so
// its file, serves one request at a time. The object never reads through
// f's own offset (it reads at offsets, with ReadAt), so that offset is the
// caller's to move: a caller that sends from f seeks f to base plus the
// object's position first, and afterwards Seeks the object past what it
// sent, so that Read and Seek go on from where the sending stopped.
type FileObject interface {
	Object
	File() (f *os.File, base int64)
}
