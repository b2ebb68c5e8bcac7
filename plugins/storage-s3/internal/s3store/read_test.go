package s3store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"testing/iotest"
	"time"
)

// readFirst reads a whole small object into a buffer of about its size,
// and a full part into a part buffer of the pool, at every boundary.
func TestReadFirst(t *testing.T) {
	const part = 5 << 20
	st, err := newStore(settings{bucket: "bkt", region: "us-east-1", endpoint: amazonEndpoint, secure: true, ttl: time.Hour, partSize: part})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size   int
		cap    int // of the buffer
		eof    bool
		pooled bool
	}{
		{0, firstSmall, true, false},
		{1, firstSmall, true, false},
		{firstSmall - 1, firstSmall, true, false},
		{firstSmall, firstLarge, true, false}, // the end shows only on the next read
		{firstSmall + 1, firstLarge, true, false},
		{firstLarge, part, true, true},
		{firstLarge + 1, part, true, true},
		{part - 1, part, true, true},
		{part, part, false, true}, // a full part: the rest follows in parts
		{part + 1, part, false, true},
	} {
		t.Run(strconv.Itoa(tc.size), func(t *testing.T) {
			data := make([]byte, tc.size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			r := iotest.HalfReader(bytes.NewReader(data))
			buf, n, eof, pooled, err := st.readFirst(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			want := min(tc.size, part)
			if n != want || !bytes.Equal((*buf)[:n], data[:want]) || len(*buf) != tc.cap || eof != tc.eof || pooled != tc.pooled {
				t.Errorf("n %d, buffer %d bytes, eof %v, pooled %v; want n %d, buffer %d, eof %v, pooled %v",
					n, len(*buf), eof, pooled, want, tc.cap, tc.eof, tc.pooled)
			}
		})
	}
	t.Run("source error", func(t *testing.T) {
		broke := errors.New("broke")
		_, _, _, _, err := st.readFirst(context.Background(), io.MultiReader(bytes.NewReader(make([]byte, 2<<20)), iotest.ErrReader(broke)))
		if !errors.Is(err, broke) {
			t.Errorf("err %v, want the source's", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, _, _, err := st.readFirst(ctx, bytes.NewReader(make([]byte, 10))); !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	})
}
