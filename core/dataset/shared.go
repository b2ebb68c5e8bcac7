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
	"manager": true, "created": true, "creator": true,
	"agent": true, "approver": true, "approved": true, "reviewer": true,
	"reviewed": true, "supervisor": true, "inviter": true, "invited": true,
	"handler": true, "handled": true, "modified": true, "updated": true,
	"sponsor": true, "mentor": true,
}

// sameKind reports whether the two fields' names share a word other than
// "id" (phone -> derived_phone, email -> contact_email): a reference that
// matches a person's own contact value or key joins rows of the same
// person.
func sameKind(a, b string) bool {
	aw := map[string]bool{}
	for _, w := range words(a) {
		aw[w] = true
	}
	for _, w := range words(b) {
		if w != "id" && w != "" && aw[w] {
			return true
		}
	}
	return false
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

// namesCollection reports whether a word of the field's path (its name or
// the objects it sits in) is a word of the collection's name, or its
// singular: "customer_id" names "customers", "customer_identifiers.id"
// names "customer_feedback". That is the usual way a row names its owner.
func namesCollection(path Path, collection string) bool {
	cw := map[string]bool{}
	for _, w := range words(collection) {
		cw[w] = true
	}
	for _, seg := range path {
		for _, w := range words(seg) {
			if w == "id" || w == "" {
				continue
			}
			if cw[w] || cw[w+"s"] || cw[w+"es"] {
				return true
			}
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
// people (an identity or contact field), neither field's path names the
// other end's collection (customer_id -> customers names the row's owner)
// and the two fields are not of the same kind (phone -> derived_phone).
func sharedHint(c *Collection, path Path, f *Field, tc *Collection, tpath Path, tf *Field) string {
	if w := roleWord(f.Name); w != "" {
		return "the field's name (" + f.Name + ") names a role towards another person"
	}
	if tf != nil {
		if w := roleWord(tf.Name); w != "" {
			return "the referenced field's name (" + tf.Name + ") names a role towards another person"
		}
	}
	if holdsPersons(c) && holdsPersons(tc) && !namesCollection(path, tc.Name) && !namesCollection(tpath, c.Name) &&
		(tf == nil || !sameKind(f.Name, tf.Name)) {
		return "both collections hold people (an identity, e-mail or phone field), so the rows at either end may be different persons"
	}
	return ""
}
