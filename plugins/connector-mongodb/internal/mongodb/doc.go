// Package mongodb is Lethe's connector for MongoDB and the servers that
// speak its wire protocol (FerretDB, Amazon DocumentDB, ...), built on the
// official Go driver v2.
//
// Access runs one find per request: each filter is {path: {$in: values}}
// on a dotted path, several filters are ORed with $or, and the projection
// holds only the requested paths (_id only when requested). A dotted path
// goes into nested documents and through arrays, where MongoDB counts a
// document as matching when any element matches. Documents stream to the
// host one at a time; their values are converted as values.go describes
// (value.ObjectID for ObjectIds, time.Time for dates, int64 for every
// integer, value.Decimal for decimal128, maps and lists for documents and
// arrays).
//
// ObjectIds and their hex strings: a filter or key value that is a
// 24-hex-digit string also matches the ObjectId with those bytes, and a
// value.ObjectID also matches its hex string. A dataset may thus declare
// _id (or a reference to it) as a string or as an object_id, whichever way
// the documents store it.
//
// Strings compare exactly: find and update ask for the simple collation
// (byte for byte) on servers that take the option, overriding a
// collection's default collation (an index with another collation then
// cannot serve the query: give identity fields an index with the simple
// collation). FerretDB 1.x has no collations and compares bytes.
//
// Erase applies one update per key ({key fields...} -> {$set:
// {"emails.1": ..., "a.b": ...}}) and returns the documents modified. A key
// must match at most one document: erasing every document a non-unique
// key matches could erase someone else's, so such a batch fails and
// changes nothing. When the server supports transactions (a replica set or
// a sharded cluster, detected with hello; see the transactions attribute)
// the batch runs in one transaction, one UpdateMany per key whose matched
// count is checked. FerretDB and standalone servers have no transactions:
// every key is checked with a find first, then the batch goes as one
// ordered bulk write of UpdateOne models, each atomic on its own document.
//
// The database is the database attribute, or, when unset, the key of the
// dataset each request names, as the reference system does. The path of a
// uri (mongodb://host/db) only sets the default authentication database,
// as in the driver.
package mongodb
