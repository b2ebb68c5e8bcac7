package identity

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		steps []string
		want  string
		err   bool
	}{
		{"none is exact", " JANE@Example.com ", nil, " JANE@Example.com ", false},
		{"trim", " \tjane@example.com\u00a0\n", []string{Trim}, "jane@example.com", false},
		{"trim keeps inner spaces", " a b ", []string{Trim}, "a b", false},
		{"lowercase", "JANE@Example.COM", []string{Lowercase}, "jane@example.com", false},
		{"lowercase keeps accents", "JANE@EXÄMPLE.COM", []string{Lowercase}, "jane@exämple.com", false},
		{"lowercase keeps sharp s", "STRAßE", []string{Lowercase}, "straße", false},
		{"casefold folds sharp s", "STRAßE", []string{CaseFold}, "strasse", false},
		{"nfc composes", "jane@exa\u0301mple.com", []string{NFC}, "jane@ex\u00e1mple.com", false},
		{"nfc keeps full-width", "ｊａｎｅ", []string{NFC}, "ｊａｎｅ", false},
		{"order matters: trim then lowercase", " JANE ", []string{Trim, Lowercase}, "jane", false},
		{"empty once trimmed", "   ", []string{Trim}, "", true},
		{"invalid utf-8", "jane\xff", []string{Lowercase}, "", true},
		{"unknown step", "jane", []string{"unaccent"}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in, tc.steps)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error: %v", err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if err != nil && len(tc.in) > 2 && contains(err.Error(), tc.in) {
				t.Fatalf("the error quotes the value: %v", err)
			}
		})
	}
	if _, err := Normalize(" ", []string{Trim}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("want ErrEmpty, got %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
