package dataset

import (
	"strings"
	"unicode"

	"github.com/lethehq/lethe/core/taxonomy"
)

// personCategories are the categories that mark a collection as holding
// rows about people who can be told apart by contact: a collection with an
// identity field, or with a field in one of these categories.
var personCategories = []string{"user.contact.email", "user.contact.phone_number"}

// roleWords are words of a field name that say it names another person in
// a role towards the row: the assignee of a ticket, the referrer of a
// customer. A reference through such a field usually reaches rows that are
// not the subject's.
var roleWords = map[string]bool{
	"assignee": true, "assigned": true, "referrer": true, "referred": true,
	"manager": true, "owner": true, "created": true, "creator": true,
	"agent": true, "approver": true, "approved": true, "reviewer": true,
	"reviewed": true, "supervisor": true, "inviter": true, "invited": true,
	"handler": true, "handled": true, "modified": true, "updated": true,
	"sponsor": true, "mentor": true, "author": true,
}

// holdsPersons reports whether c has an identity field or a field with an
// e-mail or phone number category, at any depth.
func holdsPersons(c *Collection) bool {
	var walk func([]*Field) bool
	walk = func(fields []*Field) bool {
		for _, f := range fields {
			if f.Identity != "" {
				return true
			}
			for _, cat := range f.Categories {
				for _, p := range personCategories {
					if taxonomy.Match(p, cat) {
						return true
					}
				}
			}
			if walk(f.Fields) {
				return true
			}
		}
		return false
	}
	return walk(c.Fields)
}

// roleWord returns the first word of name (split at '_', '-' and
// lower-to-upper case changes) that names a role towards another person,
// or "".
func roleWord(name string) string {
	for _, w := range words(name) {
		if roleWords[w] {
			return w
		}
	}
	return ""
}

// namesCollection reports whether a word of the field name is the
// collection's name, or its singular ("customer_id" names "customers"):
// the usual way a row names its owner.
func namesCollection(field, collection string) bool {
	c := strings.ToLower(collection)
	for _, w := range words(field) {
		if w == c || w+"s" == c || w+"es" == c {
			return true
		}
	}
	return false
}

// words splits name at '_', '-' and lower-to-upper case changes, in lower
// case.
func words(name string) []string {
	var words []string
	start := 0
	runes := []rune(name)
	for i, r := range runes {
		switch {
		case r == '_' || r == '-':
			words = append(words, string(runes[start:i]))
			start = i + 1
		case i > start && unicode.IsUpper(r) && unicode.IsLower(runes[i-1]):
			words = append(words, string(runes[start:i]))
			start = i
		}
	}
	words = append(words, string(runes[start:]))
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	return words
}

// sharedHint says why a reference from field f of collection c to field tf
// of collection tc looks like one person pointing at another, or "" when it
// does not: the name of either field names a role towards another person
// ("assignee_id", "referred_by", "manager"), or both collections hold
// people (an identity or contact field) and the field's name does not name
// the collection it references (customer_id -> customers names the row's
// owner).
func sharedHint(c *Collection, f *Field, tc *Collection, tf *Field) string {
	if w := roleWord(f.Name); w != "" {
		return "the field's name (" + f.Name + ") names a role towards another person"
	}
	if tf != nil {
		if w := roleWord(tf.Name); w != "" {
			return "the referenced field's name (" + tf.Name + ") names a role towards another person"
		}
	}
	if holdsPersons(c) && holdsPersons(tc) && !namesCollection(f.Name, tc.Name) {
		return "both collections hold people (an identity, e-mail or phone field), so the rows at either end may be different persons"
	}
	return ""
}
