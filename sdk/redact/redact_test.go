package redact

import (
	"errors"
	"strings"
	"testing"

	"github.com/lethehq/lethe/sdk/value"
)

func TestText(t *testing.T) {
	const marker = "MARKER-5f3a@example.com"
	tests := []struct {
		name   string
		values []any
		text   string
		want   string
	}{
		{"postgres uuid message", []any{marker}, `ERROR: invalid input syntax for type uuid: "MARKER-5f3a@example.com" (SQLSTATE 22P02)`,
			`ERROR: invalid input syntax for type uuid: "[redacted]" (SQLSTATE 22P02)`},
		{"unquoted", []any{marker}, "no row for MARKER-5f3a@example.com here", "no row for [redacted] here"},
		{"upper-cased", []any{marker}, "value MARKER-5F3A@EXAMPLE.COM refused", "value [redacted] refused"},
		{"lower-cased", []any{marker}, "value marker-5f3a@example.com refused", "value [redacted] refused"},
		{"single-quoted (MySQL)", []any{marker}, "Truncated incorrect DOUBLE value: 'MARKER-5f3a@example.com'", "Truncated incorrect DOUBLE value: '[redacted]'"},
		{"inside a longer word", []any{marker}, "keyMARKER-5f3a@example.comsuffix", "key[redacted]suffix"},
		{"twice", []any{marker}, marker + " and " + marker, "[redacted] and [redacted]"},
		{"at both ends", []any{"jane doe"}, "jane doe", "[redacted]"},
		{"Go %q escapes", []any{`say "hi" jane`}, `bad value "say \"hi\" jane"`, `bad value "[redacted]"`},
		{"Go %+q escapes", []any{"jäne@exämple.com"}, `bad "j\u00e4ne@ex\u00e4mple.com"`, `bad "[redacted]"`},
		{"JSON-escaped", []any{"<jane>&co"}, `{"error": "no \u003cjane\u003e\u0026co"}`, `{"error": "no [redacted]"}`},
		{"JSON-escaped quote", []any{`o"neil`}, `{"v": "o\"neil"}`, `{"v": "[redacted]"}`},
		{"SQL doubled quote", []any{"o'neil"}, `invalid input: 'o''neil'`, `invalid input: '[redacted]'`},
		{"non-ASCII case", []any{"ÉLODIE"}, "name élodie", "name [redacted]"},
		{"several values, overlapping", []any{"jane@example.com", "example.com"}, "jane@example.com!", "[redacted]!"},
		{"number", []any{int64(5550100)}, "no integer 5550100 in 15550100x", "no integer [redacted] in 1[redacted]x"},
		{"decimal and object id", []any{value.Decimal("12.5000"), value.ObjectID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
			"12.5000 / ObjectId(\"0102030405060708090a0b0c\")", "[redacted] / ObjectId(\"[redacted]\")"},
		{"nested values", []any{[]any{"alpha-1", map[string]any{"k": "beta-2"}}}, "alpha-1 beta-2", "[redacted] [redacted]"},
		{"short value alone", []any{int64(42)}, `key "42" not found (SQLSTATE 42703)`, `key "[redacted]" not found (SQLSTATE 42703)`},
		{"short value inside words stays", []any{"li"}, "column li of public.list", "column [redacted] of public.list"},
		{"one character", []any{"a"}, `invalid input "a" for a boolean`, `invalid input "[redacted]" for [redacted] boolean`},
		{"one character never inside words", []any{"e"}, "invalid value", "invalid value"},
		{"empty value ignored", []any{""}, "nothing here", "nothing here"},
		{"punctuation-only value ignored", []any{"-", "  "}, "a - b", "a - b"},
		{"nil, bool and time ignored", []any{nil, true}, "true nil", "true nil"},
		{"no values", nil, "unchanged", "unchanged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Set
			s.AddAll(tc.values...)
			if got := s.Text(tc.text); got != tc.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestTextCut(t *testing.T) {
	const v = "jane.doe@example.com"
	var s Set
	s.Add(v)
	// The value straddles MaxScan: the kept part begins it and is masked.
	text := strings.Repeat("x ", (MaxScan-8)/2) + v + " tail"
	got := s.Text(text)
	if strings.Contains(got, "jane") || !strings.HasSuffix(got, Mask+" [cut]") {
		t.Errorf("cut text ends %q", got[len(got)-40:])
	}
	if len(got) > MaxScan+len(Mask)+len(" [cut]") {
		t.Errorf("cut text is %d bytes", len(got))
	}
}

func TestError(t *testing.T) {
	var s Set
	s.Add("jane@example.com")
	if s.Error(nil) != nil {
		t.Error("nil error redacted into an error")
	}
	err := s.Error(errors.New(`invalid input syntax for type uuid: "jane@example.com"`))
	if err.Error() != `invalid input syntax for type uuid: "[redacted]"` {
		t.Errorf("got %q", err)
	}
}

func FuzzText(f *testing.F) {
	f.Add("jane@example.com", `ERROR: "JANE@EXAMPLE.COM"`)
	f.Add("ab", "ab abc cab")
	f.Fuzz(func(t *testing.T, v, text string) {
		var s Set
		s.Add(v)
		got := s.Text(text)
		// A value of MinLen characters or more that has a letter or digit
		// never survives in the redacted text as it was.
		if strings.ContainsFunc(v, isWordRune) && len([]rune(v)) >= MinLen && len(text) <= MaxScan && strings.Contains(got, v) && !strings.Contains(Mask, v) {
			t.Fatalf("Text(%q) with %q = %q", text, v, got)
		}
	})
}
