package redact

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lethehq/lethe/sdk/value"
)

// Mask replaces every occurrence of a value.
const Mask = "[redacted]"

// MinLen is the least length, in characters, of a value redacted wherever
// it occurs; shorter values are redacted only where they stand alone.
const MinLen = 4

// MaxScan bounds the text kept and searched, in bytes.
const MaxScan = 64 << 10

// maxValueLen bounds the length of a value searched for, in characters:
// longer values (whole documents, binary blobs) are searched by their
// first maxValueLen characters, which a text quoting the value starts with.
const maxValueLen = 1024

// Set is a set of values to redact. The zero Set redacts nothing. Add is
// not safe for concurrent use; Text is, once the values are added.
type Set struct {
	forms   [][]rune // case-folded forms searched for
	short   []bool   // the form's value is shorter than MinLen
	seen    map[string]bool
	byFirst map[rune][]int // forms by their first folded rune
}

// Len is the number of forms searched for.
func (s *Set) Len() int { return len(s.forms) }

// Add adds a value: strings, numbers, decimals, object ids, byte strings
// that are text, and the elements of lists and documents. nil, booleans
// and times are ignored.
func (s *Set) Add(v any) {
	switch x := v.(type) {
	case string:
		s.addString(x)
	case []byte:
		if utf8.Valid(x) {
			s.addString(string(x))
		}
	case int64:
		s.addString(strconv.FormatInt(x, 10))
	case int:
		s.addString(strconv.Itoa(x))
	case int32:
		s.addString(strconv.FormatInt(int64(x), 10))
	case uint64:
		s.addString(strconv.FormatUint(x, 10))
	case float64:
		s.addString(strconv.FormatFloat(x, 'f', -1, 64))
		s.addString(strconv.FormatFloat(x, 'g', -1, 64))
	case value.Decimal:
		s.addString(string(x))
	case value.ObjectID:
		s.addString(x.String())
	case []any:
		for _, e := range x {
			s.Add(e)
		}
	case map[string]any:
		for _, e := range x {
			s.Add(e)
		}
	case nil, bool, time.Time:
	case fmt.Stringer:
		s.addString(x.String())
	}
}

// AddAll adds every value of vs.
func (s *Set) AddAll(vs ...any) {
	for _, v := range vs {
		s.Add(v)
	}
}

func (s *Set) addString(v string) {
	if !strings.ContainsFunc(v, isWordRune) {
		return
	}
	if utf8.RuneCountInString(v) > maxValueLen {
		r := []rune(v)
		v = string(r[:maxValueLen])
	}
	short := utf8.RuneCountInString(v) < MinLen
	for _, f := range forms(v) {
		folded := fold(f)
		k := string(folded)
		if s.seen[k] {
			continue
		}
		if s.seen == nil {
			s.seen = map[string]bool{}
			s.byFirst = map[rune][]int{}
		}
		s.seen[k] = true
		s.byFirst[folded[0]] = append(s.byFirst[folded[0]], len(s.forms))
		s.forms = append(s.forms, folded)
		s.short = append(s.short, short)
	}
}

// forms are the spellings of v an error text may hold.
func forms(v string) []string {
	out := []string{v}
	add := func(f string) {
		for _, o := range out {
			if o == f {
				return
			}
		}
		if f != "" {
			out = append(out, f)
		}
	}
	q := strconv.Quote(v)
	add(q[1 : len(q)-1])
	q = strconv.QuoteToASCII(v)
	add(q[1 : len(q)-1])
	if j, err := json.Marshal(v); err == nil {
		add(string(j[1 : len(j)-1]))
	}
	add(strings.ReplaceAll(v, "'", "''"))
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// foldRune maps r to the smallest rune of its simple case folding orbit:
// two runes are equal without regard to case when their foldRune are.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}

func fold(s string) []rune {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, foldRune(r))
	}
	return out
}

// Text returns s with every value of the set replaced by Mask.
func (s *Set) Text(text string) string {
	cut := false
	if len(text) > MaxScan {
		end := MaxScan
		for end > 0 && !utf8.RuneStart(text[end]) {
			end--
		}
		text, cut = text[:end], true
	}
	if s == nil || len(s.forms) == 0 {
		if cut {
			return text + " [cut]"
		}
		return text
	}
	// The text's runes, folded, and the byte offset of each (plus the end).
	var (
		runes []rune
		orig  []rune
		offs  []int
	)
	for i, r := range text {
		runes = append(runes, foldRune(r))
		orig = append(orig, r)
		offs = append(offs, i)
	}
	offs = append(offs, len(text))
	var spans [][2]int // rune index ranges to mask
	for i, r := range runes {
		for _, fi := range s.byFirst[r] {
			f := s.forms[fi]
			if i+len(f) > len(runes) || !equalRunes(runes[i:i+len(f)], f) {
				continue
			}
			if s.short[fi] && (i > 0 && isWordRune(orig[i-1]) || i+len(f) < len(orig) && isWordRune(orig[i+len(f)])) {
				continue
			}
			spans = append(spans, [2]int{i, i + len(f)})
		}
	}
	if cut {
		// A value cut off at the end: mask the tail that begins it.
		for fi, f := range s.forms {
			for n := min(len(f)-1, len(runes)); n > 0; n-- {
				if equalRunes(runes[len(runes)-n:], f[:n]) {
					if !s.short[fi] || len(runes) == n || !isWordRune(orig[len(runes)-n-1]) {
						spans = append(spans, [2]int{len(runes) - n, len(runes)})
					}
					break
				}
			}
		}
	}
	if len(spans) == 0 {
		if cut {
			return text + " [cut]"
		}
		return text
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a][0] < spans[b][0] })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		if sp[0] <= last[1] {
			last[1] = max(last[1], sp[1])
			continue
		}
		merged = append(merged, sp)
	}
	var b strings.Builder
	at := 0 // rune index written up to
	for _, sp := range merged {
		b.WriteString(text[offs[at]:offs[sp[0]]])
		b.WriteString(Mask)
		at = sp[1]
	}
	b.WriteString(text[offs[at]:])
	if cut {
		b.WriteString(" [cut]")
	}
	return b.String()
}

func equalRunes(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Error returns err with its text redacted, or nil for nil. The result
// keeps no link to err (errors.Is and errors.As see only the text): use it
// where the error leaves the process or is kept.
func (s *Set) Error(err error) error {
	if err == nil {
		return nil
	}
	return redacted(s.Text(err.Error()))
}

type redacted string

func (r redacted) Error() string { return string(r) }
