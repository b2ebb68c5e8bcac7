// Package redact removes known values from error text, so that personal
// data a database or a driver quotes in an error (PostgreSQL's `invalid
// input syntax for type uuid: "jane@example.com"`, a conversion failure
// naming the value) never leaves a plugin, nor reaches a log line or the
// state directory.
//
// The side that knows the values of a call (the values it filters on, the
// keys and values of an erasure) collects them in a Set and passes every
// error text through Set.Text. The rules:
//
//   - Every occurrence of a value is replaced by Mask, compared without
//     regard to case (Unicode simple case folding: databases echo values
//     upper- or lower-cased), quoted or not, inside longer words too.
//   - The escaped forms a value takes in error text are searched as well:
//     Go's %q and %+q, JSON string escaping, SQL's doubled single quotes.
//   - Values shorter than MinLen characters are replaced only where they
//     stand alone: not preceded or followed by a letter or digit. A key of
//     7 or a name "Li" would otherwise erase every 7 and "li" in the text
//     ("SQLSTATE 22P02", "column", ...) and leave it unreadable; a short
//     value inside a longer word of the text stays there.
//   - Values without any letter or digit ("-", "  ") and empty values are
//     ignored: they identify no one and would erase punctuation.
//   - Only the first MaxScan bytes of a text are kept and searched; when a
//     text is cut, a tail that begins a value is redacted too.
//
// Not covered: values a database rewrites beyond case (Unicode
// normalization, full case folding such as "ß" and "SS", numbers printed
// in another format, times), and values the redacting side never saw
// (another row's data in a driver's message). Errors should name columns
// and codes, not values; this is the net under that rule.
package redact
