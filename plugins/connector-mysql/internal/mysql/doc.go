// Package mysql is Lethe's connector for MySQL and MariaDB, built on
// go-sql-driver/mysql. Identifiers are always quoted with backticks;
// values are always bound as parameters (server-side prepared statements).
//
// Values follow each column's type (information_schema.COLUMNS, read once
// per table and again when a request names a column the cache lacks):
//
//	MySQL / MariaDB type                  Go value
//	tinyint(1), boolean                   bool
//	other integers                        int64 (unsigned beyond int64: value.Decimal)
//	float, double                         float64 (float widened exactly)
//	decimal                               value.Decimal (every digit)
//	date, datetime, timestamp             time.Time in UTC (the session runs in UTC)
//	binary, varbinary, blob               []byte
//	char, varchar, text, enum, set        string
//	json; MariaDB: longtext CHECK         map[string]any / []any; whole numbers
//	  (json_valid(col))                   int64, others float64
//	(anything else)                       string if valid UTF-8, else []byte
//
// Values bound for a column follow its type too: text sent for an integer
// column is parsed, so keys compare as numbers; numbers and booleans sent
// for a text column are sent as text, since MySQL compares text with a
// number as doubles (where 'abc' = 0 holds); times are sent in UTC; maps
// and lists as JSON text; decimals as their exact text.
//
// Every connection runs with time_zone '+00:00' and the statement timeout
// (MariaDB max_statement_time, MySQL max_execution_time), set by the
// driver when it opens the connection; parseTime, UTC and found rows (a
// repeated Erase reports the rows it matched) are forced whatever the DSN
// says.
//
// Nested fields exist inside JSON columns: Access of doc.email selects the
// doc column; a filter on doc.email compares JSON_UNQUOTE(JSON_EXTRACT(doc,
// '$."email"')) as text; Erase of doc.email rewrites that member with
// JSON_REPLACE, leaving the rest of the document alone and absent members
// absent.
package mysql
