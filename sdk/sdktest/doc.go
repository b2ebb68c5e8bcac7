// Package sdktest lets plugin authors test their plugin the way Lethe uses
// it: through real gRPC, in process (NewConnectorHarness, NewStorageHarness)
// or as a real plugin process (BuildPlugin, then LaunchConnector or
// LaunchStorage), and checks it with the conformance suites
// (RunConnectorConformance, RunStorageConformance).
//
// A plugin module's test usually looks like this:
//
//	func TestConformance(t *testing.T) {
//		c := sdktest.LaunchConnector(t, sdktest.BuildPlugin(t, "."))
//		sdktest.RunConnectorConformance(t, c, sdktest.ConnectorFixture{
//			Config:     map[string]any{"dsn": dsn},
//			BadConfigs: []map[string]any{{}, {"dsn": 42}},
//			Collection: connector.Collection{Dataset: "conformance", Name: "lethe_conformance"},
//			Supports:   []sdktest.Kind{sdktest.KindDecimal, sdktest.KindBytes, sdktest.KindBool, sdktest.KindTime},
//			Reset:      resetWithMyDriver,
//		})
//	}
//
// # The conformance collection
//
// The connector suite works on one collection whose layout is fixed, so
// that it can check values of every kind. The fixture's Reset creates it
// when needed, with the author's own driver code; in SQL:
//
//	CREATE TABLE lethe_conformance (
//	  id    BIGINT PRIMARY KEY,  -- int64, the key Erase updates by
//	  email VARCHAR(255) NULL,   -- string; not unique: many rows share one email
//	  name  TEXT NULL,           -- string of any length: must hold 10 MiB
//	  n     BIGINT NULL,         -- int64 from math.MinInt64 to math.MaxInt64
//	  -- one column per supported Kind:
//	  f     DOUBLE NULL,         -- KindFloat: float64, exactly
//	  d     NUMERIC(38,9) NULL,  -- KindDecimal: value.Decimal, 20 integer and 9 fraction digits
//	  b     BLOB NULL,           -- KindBytes: []byte, any byte value
//	  flag  BOOLEAN NULL,        -- KindBool: bool
//	  ts    TIMESTAMP NULL,      -- KindTime or KindTimeOffset: time.Time
//	  doc   JSON NULL,           -- KindMap: map[string]any (int64, string, bool, nil, nested maps and lists)
//	  tags  JSON NULL            -- KindList: []any of the same
//	);
//
// Every column but id may hold NULL. Columns of kinds the fixture does not
// support are left out of the rows Reset receives and of every request.
//
// # What the connector suite requires
//
//   - Describe answers without an instance: kind "connector", a name, a
//     semantic version, a non-empty config schema; the "dry_run" capability
//     exactly when DryRun answers.
//   - A bad config gives error diagnostics, never a transport error or a
//     panic, and leaves no instance behind. Test passes on a good one.
//   - Values of every supported kind come back exactly: int64 extremes,
//     floats bit for bit, decimals equal as numbers, bytes, times at
//     TimePrecision (the same instant; with KindTimeOffset the same offset
//     too), nested documents and lists, and NULL of every kind.
//   - Access returns exactly the rows that match any filter (filters are
//     ORed, a filter's values are an IN list), with exactly the requested
//     fields, at most Limit rows.
//   - 1,200 rows of about 1 KiB arrive complete, without duplicates, in
//     more than one batch. Order is not required: the host does not rely on
//     it.
//   - Cancelling an Access mid-stream returns within 2 s, and the instance
//     keeps working.
//   - Access with no filter, or a filter with no value, is refused with a
//     permanent fault.
//   - Erase updates exactly the rows with the given keys (every key field
//     must match) and no others, and reports them in EraseResult.Rows. A
//     second identical Erase leaves the data as it was; it may report 0
//     (rows changed) or the same count (rows matched). An Erase whose key
//     matches nothing affects 0 rows and succeeds.
//   - Strings compare exactly, byte for byte, in filters and erase keys
//     (ExactMatch): a value differing from a stored one only in case,
//     accents, trailing or leading spaces, Unicode normal form (NFC
//     against NFD), full-width letters or ß against ss matches nothing,
//     whatever the column's collation; the exact value matches its row.
//     A database whose columns can compare loosely (a case- or
//     accent-insensitive collation, PAD SPACE, citext, COLLATE NOCASE, a
//     collection collation) should give the fixture's Loose a collection
//     with its most permissive one, so that the checks run there too.
//   - An Erase batch in which one key matches more than one row (the
//     declared key is not unique) fails with a permanent fault whose
//     message says the key is not unique and quotes no value, and changes
//     no row of the batch (EraseKeyNotUnique).
//   - Access and Erase from 8 goroutines at once are safe (run with -race;
//     BuildPlugin builds race-enabled plugins then).
//   - A row with a 10 MiB value comes back, and an Erase batch carrying
//     10 MiB goes through.
//   - CloseInstance twice is fine; the closed instance is then unknown.
//
// # What the storage suite requires
//
//   - Describe, bad configs and Test as for connectors.
//   - Uploads of 0 B, 1 B and 10 MiB land with the reported size and
//     sha256, and read back identical through the fixture's Fetch.
//   - Uploading a key again replaces the object.
//   - Keys that try to leave the destination ("../x", "/etc/passwd", ...)
//     are refused with a permanent fault.
//   - A cancelled or failed upload leaves no object (and does not damage an
//     earlier complete object under the same key).
//   - Concurrent uploads are safe; CloseInstance twice is fine.
package sdktest
