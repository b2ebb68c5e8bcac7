package identity

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// The normalization steps. Each is applied in the order declared.
const (
	// Trim removes leading and trailing white space as Unicode defines it
	// (unicode.IsSpace: tab, line feed, vertical tab, form feed, carriage
	// return, space, U+0085, U+00A0 and the other Zs characters). Inner
	// spaces are kept.
	Trim = "trim"
	// Lowercase maps every character to its lower case by the Unicode
	// simple case mapping, one character to one character, independent of
	// language (Go's strings.ToLower): "JANE@Example.COM" becomes
	// "jane@example.com", "É" becomes "é". Accents are kept: "ä" stays
	// "ä", never "a".
	Lowercase = "lowercase"
	// CaseFold applies Unicode full case folding (golang.org/x/text/cases
	// Fold): like lowercase, and also maps characters whose folding is
	// longer, such as "ß" to "ss". Use it rather than lowercase when values
	// may hold such characters and must match their folded spelling.
	CaseFold = "casefold"
	// NFC puts the text in Unicode Normalization Form C (canonical
	// composition): "e" followed by a combining acute accent becomes "é",
	// so two spellings of the same text compare equal. It does not remove
	// accents and does not fold compatibility characters (full-width
	// letters stay full-width).
	NFC = "nfc"
)

// Steps lists every normalization, in the order documentation shows them.
var Steps = []string{Trim, Lowercase, CaseFold, NFC}

// Known reports whether step is a normalization.
func Known(step string) bool {
	for _, s := range Steps {
		if s == step {
			return true
		}
	}
	return false
}

// ErrEmpty reports a value that normalization left empty (only spaces).
var ErrEmpty = errors.New("the value is empty once normalized")

// Normalize applies steps to value, in order. It fails on an unknown step,
// on a value that is not valid UTF-8 when a step needs to read characters,
// and when the result is empty. Errors never quote the value.
func Normalize(value string, steps []string) (string, error) {
	if len(steps) == 0 {
		return value, nil
	}
	if !utf8.ValidString(value) {
		return "", errors.New("the value is not valid UTF-8, so it cannot be normalized")
	}
	for _, s := range steps {
		switch s {
		case Trim:
			value = strings.TrimSpace(value)
		case Lowercase:
			value = strings.ToLower(value)
		case CaseFold:
			value = cases.Fold().String(value)
		case NFC:
			value = norm.NFC.String(value)
		default:
			return "", fmt.Errorf("unknown normalization %q; use %s", s, strings.Join(Steps, ", "))
		}
	}
	if value == "" {
		return "", ErrEmpty
	}
	return value, nil
}
