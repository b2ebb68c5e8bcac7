package sdktest

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/value"
)

func TestComparer(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("", 3600))
	tests := []struct {
		name      string
		offset    bool
		want, got any
		err       string // "" when equal
	}{
		{"equal int64", false, int64(1), int64(1), ""},
		{"int64 is not int", false, int64(1), 1, "got int"},
		{"null", false, nil, nil, ""},
		{"null expected", false, nil, "", "want NULL"},
		{"decimals as numbers", false, value.Decimal("1.50"), value.Decimal("1.5"), ""},
		{"decimal differs", false, value.Decimal("1.50"), value.Decimal("1.51"), "got decimal"},
		{"decimal as string", false, value.Decimal("1"), "1", "want decimal"},
		{"same instant other offset", false, at, at.UTC(), ""},
		{"offset required", true, at, at.UTC(), "offset"},
		{"same instant and offset", true, at, at.In(time.FixedZone("X", 3600)), ""},
		{"other instant", false, at, at.Add(time.Microsecond), "same instant"},
		{"float bits", false, 0.1, 0.1, ""},
		{"negative zero", false, math.Copysign(0, -1), 0.0, "want float64"},
		{"bytes", false, []byte{1, 2}, []byte{1, 2}, ""},
		{"empty bytes vs nil", false, []byte{}, nil, "want []uint8"},
		{"nested map", false, map[string]any{"a": []any{int64(1), nil}}, map[string]any{"a": []any{int64(1), nil}}, ""},
		{"map missing key", false, map[string]any{"a": nil}, map[string]any{}, `key "a" is missing`},
		{"map extra key", false, map[string]any{}, map[string]any{"b": int64(1)}, `unexpected key "b"`},
		{"list length", false, []any{int64(1)}, []any{}, "0 elements, want 1"},
		{"list element", false, []any{int64(1)}, []any{int64(2)}, "[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := comparer{offset: tc.offset}.same(tc.want, tc.got)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("want equal, got %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("want an error containing %q, got %v", tc.err, err)
			}
		})
	}
}

func TestShowShortens(t *testing.T) {
	if s := show(strings.Repeat("x", 1<<20)); len(s) > 210 {
		t.Errorf("show gave %d bytes", len(s))
	}
}

func TestRawStderrPassesOnlyNonJSONLines(t *testing.T) {
	var got []string
	sink := &logSink{t: recordTB{TB: t, lines: &got}}
	r := &rawStderr{sink: sink}
	// go-plugin writes a line, then its newline, separately.
	for _, part := range []string{`{"@level":"info"}`, "\n", "panic: boom", "\n", "goroutine 1 [running]:", "\n", "partial"} {
		r.Write([]byte(part))
	}
	want := []string{"plugin stderr: panic: boom", "plugin stderr: goroutine 1 [running]:"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

type recordTB struct {
	testing.TB
	lines *[]string
}

func (r recordTB) Log(args ...any) {
	for _, a := range args {
		*r.lines = append(*r.lines, a.(string))
	}
}
