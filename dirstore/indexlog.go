package dirstore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// The key index's log format (docs/SERVING.md §2, "The key index"): a
// header naming what the file is, then records, each a put or a
// deletion of one key:
//
//	record: u32 body length | u32 CRC-32C of the body | body
//	body:   0x01 | uvarint len, key | uvarint size | uvarint len, etag |
//	        varint seconds, uvarint nanoseconds of LastModified |
//	        uvarint len, storage class
//	    or  0x02 | uvarint len, key (a deletion, delete.go)
//
// A reader of a release before deletions takes 0x02 for corruption and
// rebuilds the log from the objects' files, which is right.
//
// All integers are big-endian or varints. A later record of a key
// replaces an earlier one. Records are appended with O_APPEND by every
// process that commits, so a reader may find the last one cut short (an
// append under way): that is not an error, it is read when whole. A
// whole record that fails its checksum or does not decode is corruption.
const (
	// logMagic heads a complete log: every committed object of the
	// bucket is in it, or is being appended to it.
	logMagic = "mkidx\x00v1"
	// journalMagic heads the log a rebuild puts in place while it scans
	// (rebuild.go): it holds only the commits made since, so it answers
	// no listing.
	journalMagic = "mkidx\x00j1"

	logHeaderLen    = len(logMagic)
	recordHeaderLen = 8
	recordPut       = 1
	recordDelete    = 2
	// maxRecordLen bounds a record's body: an object's metadata, key
	// included, fits in maxDirMetaLen of JSON, so any committed key fits.
	maxRecordLen = maxDirMetaLen + 64
)

var (
	errCorruptLog = errors.New("dirstore: the key index is corrupt")
	errJournal    = errors.New("dirstore: the key index is being rebuilt")
	castagnoli    = crc32.MakeTable(crc32.Castagnoli)
)

// appendRecord appends e's record to dst.
func appendRecord(dst []byte, e indexEntry) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, recordHeaderLen)...)
	if e.gone {
		dst = appendString(append(dst, recordDelete), e.key)
		return sealRecord(dst, start)
	}
	dst = append(dst, recordPut)
	dst = appendString(dst, e.key)
	dst = binary.AppendUvarint(dst, uint64(e.size))
	dst = appendString(dst, e.etag)
	dst = binary.AppendVarint(dst, e.mod.Unix())
	dst = binary.AppendUvarint(dst, uint64(e.mod.Nanosecond()))
	dst = appendString(dst, e.class)
	if e.size < 0 {
		return dst[:start], errors.New("dirstore: an object too large to index")
	}
	return sealRecord(dst, start)
}

// sealRecord fills in the header of the record that starts at dst[start].
func sealRecord(dst []byte, start int) ([]byte, error) {
	body := dst[start+recordHeaderLen:]
	if len(body) > maxRecordLen {
		return dst[:start], errors.New("dirstore: an object too large to index")
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(body)))
	binary.BigEndian.PutUint32(dst[start+4:], crc32.Checksum(body, castagnoli))
	return dst, nil
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// decodeRecord reads a record's body, which its checksum vouched for;
// anything but exactly one well-formed put or deletion is corruption,
// never a panic.
func decodeRecord(body []byte) (indexEntry, error) {
	d := decoder{buf: body}
	switch d.byte() {
	case recordPut:
	case recordDelete:
		e := indexEntry{gone: true, key: d.string()}
		if d.bad || len(d.buf) != 0 {
			return indexEntry{}, errCorruptLog
		}
		return e, nil
	default:
		return indexEntry{}, errCorruptLog
	}
	var e indexEntry
	e.key = d.string()
	size := d.uvarint()
	e.etag = d.string()
	sec, nsec := d.varint(), d.uvarint()
	e.class = d.string()
	if d.bad || len(d.buf) != 0 || size > math.MaxInt64 || nsec >= uint64(time.Second) {
		return indexEntry{}, errCorruptLog
	}
	e.size = int64(size)
	e.mod = time.Unix(sec, int64(nsec)).UTC()
	return e, nil
}

// decoder reads a body; a read past its end marks it bad.
type decoder struct {
	buf []byte
	bad bool
}

func (d *decoder) byte() byte {
	if len(d.buf) == 0 {
		d.bad = true
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.bad = true
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

// readRecords applies each whole record r holds, in order, and returns the
// bytes they took; cut says a record was cut short at the end (an append
// under way, or one that failed: the caller knows which). The first
// corrupt record stops it with errCorruptLog.
func readRecords(r io.Reader, apply func(indexEntry)) (n int64, cut bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var head [recordHeaderLen]byte
	var body []byte
	for {
		if k, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return n, k > 0, nil
			}
			return n, false, err
		}
		size := binary.BigEndian.Uint32(head[:4])
		if size == 0 || size > maxRecordLen {
			// Zeros are what a file cut by a crash may end in.
			return n, false, errCorruptLog
		}
		if cap(body) < int(size) {
			body = make([]byte, size)
		}
		body = body[:size]
		if _, err := io.ReadFull(br, body); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return n, true, nil
			}
			return n, false, err
		}
		if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(head[4:]) {
			return n, false, errCorruptLog
		}
		e, err := decodeRecord(body)
		if err != nil {
			return n, false, err
		}
		apply(e)
		n += int64(recordHeaderLen) + int64(size)
	}
}
