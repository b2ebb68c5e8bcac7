// Package sqlite is Lethe's connector for SQLite database files, built on
// modernc.org/sqlite (pure Go, no cgo). Identifiers are always quoted and
// values always bound as parameters.
//
// Values follow each column's declared type (PRAGMA table_info, read once
// per table and read again when a request names a column the cache lacks):
//
//	declared type contains      Go value       stored as
//	BOOL                        bool           0 / 1
//	DECIMAL, NUMERIC            value.Decimal  see below
//	INT                         int64          INTEGER
//	REAL, FLOA, DOUB            float64        REAL
//	DATE, TIME                  time.Time      RFC 3339 text with its offset
//	JSON                        map / list     JSON text
//	BLOB                        []byte         BLOB
//	CHAR, TEXT, CLOB            string         TEXT
//	(anything else)             what SQLite stored
//
// Decimals: SQLite gives DECIMAL and NUMERIC columns numeric affinity, so it
// keeps only 15 significant digits of a decimal (plenty for money). To keep
// every digit, declare the column with a type that contains both DECIMAL
// and TEXT, such as DECIMAL_TEXT: SQLite then stores the text as written and
// this connector still reads it as a decimal.
//
// SQLite is dynamically typed: a value that does not fit its column's
// declared type (text in an INTEGER column, an integer in a DATETIME column)
// comes back as SQLite stored it rather than failing the request. Text that
// is not valid UTF-8 comes back as []byte.
//
// Nested fields exist only inside JSON columns: Access with the path
// doc.email selects the whole doc column; a filter on doc.email compares
// json_extract("doc", '$."email"'); Erase of doc.email replaces that member
// with json_replace, leaving the rest of the document alone.
package sqlite
