package execute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lethehq/lethe/sdk/connector"
	"github.com/lethehq/lethe/sdk/value"
)

// Checkpoint pages hold rows exactly as the connector returned them, in a
// compact typed encoding (below), so int64, decimals, times and nested
// documents survive a restart unchanged. A row found through an array
// field also carries, under matchedKey, the positions of the array
// elements that matched (see arrays.go); no real field can have that name.
const matchedKey = "\x00matched"

// Page bounds: a page is written once it holds this many bytes or rows.
const (
	pageBytes = 1 << 20
	pageRows  = 2000
)

// The page encoding. Pages are read back for every child node's inputs,
// for the package and for erasure, so decoding must be cheap: the plugin
// protocol's RowBatch (maps of oneof messages) cost most of an access
// request's CPU. A page is
//
//	'L' version(1) rows(uvarint) row*
//	row   = fields(uvarint) (name value)*
//	name  = index(uvarint) [len(uvarint) bytes, when index is new]
//
// Top-level field names are numbered in order of first use, so a page
// spells each column name once. A value is a tag byte and its payload:
// nil, false, true; int64 (zigzag varint); float64 (8 bytes, IEEE bits);
// string, bytes, decimal (uvarint length and bytes); time (seconds varint,
// nanoseconds uvarint, zone offset varint); local time, in no zone (its
// wall clock as UTC seconds varint, nanoseconds uvarint); ObjectID (12
// bytes); map
// (count, then name as length and bytes, value); list (count, values).
const (
	pageMagic   = 'L'
	pageVersion = 1
)

const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagInt
	tagFloat
	tagString
	tagBytes
	tagDecimal
	tagTime
	tagObjectID
	tagMap
	tagList
	// tagLocalTime came after the others: pages written before it never
	// hold it, and keep their meaning.
	tagLocalTime
)

// pageBuffer accumulates encoded rows until a page is full.
type pageBuffer struct {
	buf   []byte
	rows  int
	names map[string]uint64
}

func (b *pageBuffer) add(row connector.Row) error {
	if b.names == nil {
		b.names = map[string]uint64{}
	}
	b.buf = binary.AppendUvarint(b.buf, uint64(len(row)))
	for _, k := range value.Keys(row) {
		idx, ok := b.names[k]
		if !ok {
			idx = uint64(len(b.names))
			b.names[k] = idx
		}
		b.buf = binary.AppendUvarint(b.buf, idx)
		if !ok {
			b.buf = appendString(b.buf, k)
		}
		var err error
		if b.buf, err = appendValue(b.buf, row[k], 0); err != nil {
			return fmt.Errorf("encode field %s: %w", k, err)
		}
	}
	b.rows++
	return nil
}

func (b *pageBuffer) full() bool { return len(b.buf) >= pageBytes || b.rows >= pageRows }

func (b *pageBuffer) empty() bool { return b.rows == 0 }

// take returns the encoded page and empties the buffer.
func (b *pageBuffer) take() ([]byte, error) {
	out := make([]byte, 0, len(b.buf)+12)
	out = append(out, pageMagic, pageVersion)
	out = binary.AppendUvarint(out, uint64(b.rows))
	out = append(out, b.buf...)
	b.buf, b.rows, b.names = b.buf[:0], 0, nil
	return out, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// maxDepth bounds the nesting of documents, as the plugin protocol does.
const maxDepth = 64

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case bool:
		if x {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), x), nil
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case int32:
		return binary.AppendVarint(append(b, tagInt), int64(x)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	case float32:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(float64(x))), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case []byte:
		b = binary.AppendUvarint(append(b, tagBytes), uint64(len(x)))
		return append(b, x...), nil
	case value.Decimal:
		return appendString(append(b, tagDecimal), string(x)), nil
	case time.Time:
		_, off := x.Zone()
		b = binary.AppendVarint(append(b, tagTime), x.Unix())
		b = binary.AppendUvarint(b, uint64(x.Nanosecond()))
		return binary.AppendVarint(b, int64(off)), nil
	case value.LocalTime:
		t := x.Time()
		b = binary.AppendVarint(append(b, tagLocalTime), t.Unix())
		return binary.AppendUvarint(b, uint64(t.Nanosecond())), nil
	case value.ObjectID:
		return append(append(b, tagObjectID), x[:]...), nil
	case map[string]any:
		b = binary.AppendUvarint(append(b, tagMap), uint64(len(x)))
		for _, k := range value.Keys(x) {
			b = appendString(b, k)
			var err error
			if b, err = appendValue(b, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []any:
		b = binary.AppendUvarint(append(b, tagList), uint64(len(x)))
		for _, e := range x {
			var err error
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("cannot store a %T", v)
}

// pageReader decodes a page.
type pageReader struct {
	data []byte
	off  int
	err  error
}

var errShortPage = errors.New("truncated checkpoint page")

func (r *pageReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data[r.off:])
	if n <= 0 {
		r.err = errShortPage
		return 0
	}
	r.off += n
	return v
}

func (r *pageReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.data[r.off:])
	if n <= 0 {
		r.err = errShortPage
		return 0
	}
	r.off += n
	return v
}

func (r *pageReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.data)-r.off) {
		r.err = errShortPage
		return nil
	}
	b := r.data[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *pageReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.data)) { // every element takes at least a byte
		r.err = errShortPage
		return 0
	}
	return int(n)
}

func (r *pageReader) value(depth int) any {
	if r.err != nil {
		return nil
	}
	if depth > maxDepth {
		r.err = fmt.Errorf("checkpoint value nested deeper than %d levels", maxDepth)
		return nil
	}
	tag := r.bytes(1)
	if r.err != nil {
		return nil
	}
	switch tag[0] {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		return r.varint()
	case tagFloat:
		b := r.bytes(8)
		if r.err != nil {
			return nil
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	case tagString:
		return string(r.bytes(r.uvarint()))
	case tagBytes:
		return append([]byte{}, r.bytes(r.uvarint())...)
	case tagDecimal:
		return value.Decimal(r.bytes(r.uvarint()))
	case tagTime:
		sec, nsec, off := r.varint(), r.uvarint(), r.varint()
		if r.err != nil || nsec >= 1e9 {
			r.err = cmpErr(r.err, errShortPage)
			return nil
		}
		t := time.Unix(sec, int64(nsec))
		if off == 0 {
			return t.UTC()
		}
		return t.In(time.FixedZone("", int(off)))
	case tagLocalTime:
		sec, nsec := r.varint(), r.uvarint()
		if r.err != nil || nsec >= 1e9 {
			r.err = cmpErr(r.err, errShortPage)
			return nil
		}
		return value.Local(time.Unix(sec, int64(nsec)).UTC())
	case tagObjectID:
		var o value.ObjectID
		copy(o[:], r.bytes(12))
		return o
	case tagMap:
		n := r.count()
		m := make(map[string]any, n)
		for range n {
			k := string(r.bytes(r.uvarint()))
			m[k] = r.value(depth + 1)
		}
		return m
	case tagList:
		n := r.count()
		l := make([]any, n)
		for i := range l {
			l[i] = r.value(depth + 1)
		}
		return l
	}
	r.err = fmt.Errorf("checkpoint page: unknown value tag %d", tag[0])
	return nil
}

func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// decodePage calls fn with each row of an encoded page.
func decodePage(data []byte, fn func(connector.Row) error) error {
	if len(data) < 2 || data[0] != pageMagic || data[1] != pageVersion {
		return errors.New("decode checkpoint page: unknown format (written by another version of Lethe?); retry the request from the start")
	}
	r := &pageReader{data: data, off: 2}
	rows := r.count()
	var names []string
	for range rows {
		n := r.count()
		row := make(connector.Row, n)
		for range n {
			idx := r.uvarint()
			switch {
			case r.err != nil:
			case idx == uint64(len(names)):
				names = append(names, string(r.bytes(r.uvarint())))
			case idx > uint64(len(names)):
				r.err = errors.New("checkpoint page: bad field name index")
			}
			if r.err != nil {
				return fmt.Errorf("decode checkpoint page: %w", r.err)
			}
			row[names[idx]] = r.value(0)
		}
		if r.err != nil {
			return fmt.Errorf("decode checkpoint page: %w", r.err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if r.err == nil && r.off != len(r.data) {
		r.err = errors.New("trailing bytes")
	}
	if r.err != nil {
		return fmt.Errorf("decode checkpoint page: %w", r.err)
	}
	return nil
}
