package sdktest

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/lethehq/lethe/sdk/value"
)

// comparer compares a seeded value with what a plugin returned.
type comparer struct {
	// offset: times must keep their zone offset, not just their instant.
	offset bool
}

// same reports how got differs from want: decimals are compared as numbers,
// times by instant (and offset when c.offset), floats bit for bit, bytes by
// content, maps and lists element by element; everything else exactly,
// including its Go type.
func (c comparer) same(want, got any) error {
	switch w := want.(type) {
	case nil:
		if got != nil {
			return fmt.Errorf("got %s, want NULL", show(got))
		}
		return nil
	case value.Decimal:
		g, ok := got.(value.Decimal)
		if !ok {
			return fmt.Errorf("got %s, want decimal %s", show(got), w)
		}
		wr, wok := w.Rat()
		gr, gok := g.Rat()
		if !wok || !gok || wr.Cmp(gr) != 0 {
			return fmt.Errorf("got decimal %s, want %s", g, w)
		}
		return nil
	case time.Time:
		g, ok := got.(time.Time)
		if !ok {
			return fmt.Errorf("got %s, want time %s", show(got), w.Format(time.RFC3339Nano))
		}
		_, wo := w.Zone()
		_, gotOff := g.Zone()
		if !g.Equal(w) || (c.offset && wo != gotOff) {
			what := "the same instant"
			if c.offset {
				what += " and offset"
			}
			return fmt.Errorf("got time %s, want %s (%s)", g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano), what)
		}
		return nil
	case value.LocalTime:
		g, ok := got.(value.LocalTime)
		if !ok {
			return fmt.Errorf("got %s, want a time in no zone %s", show(got), w)
		}
		if g != w {
			return fmt.Errorf("got time %s, want %s", g, w)
		}
		return nil
	case float64:
		g, ok := got.(float64)
		if !ok || math.Float64bits(g) != math.Float64bits(w) {
			return fmt.Errorf("got %s, want float64 %v", show(got), w)
		}
		return nil
	case []byte:
		g, ok := got.([]byte)
		if !ok || !bytes.Equal(g, w) {
			return fmt.Errorf("got %s, want %s", show(got), show(w))
		}
		return nil
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("got %s, want a map", show(got))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("key %q is missing", k)
			}
			if err := c.same(wv, gv); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("unexpected key %q", k)
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("got %s, want a list", show(got))
		}
		if len(g) != len(w) {
			return fmt.Errorf("got a list of %d elements, want %d", len(g), len(w))
		}
		for i := range w {
			if err := c.same(w[i], g[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("got %s, want %s", show(got), show(want))
	}
	return nil
}

// show prints a value for a failure message, shortened: rows may hold
// megabytes.
func show(v any) string {
	s := fmt.Sprintf("%T %#v", v, v)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
