// Package pack builds access packages: for one access rule, the rows of
// every collection filtered to the fields the rule's targets cover,
// serialised as JSON or as CSV files in a zip, optionally encrypted with the
// requester's key.
//
// Formats, and where they differ from the reference system
// (in Fidesops):
//
//   - Category matching is hierarchical on dot boundaries (taxonomy.Match):
//     "user.contact" covers "user.contact.email" but not
//     "user.contactless". The reference compared string prefixes.
//   - JSON is one object {"dataset:collection": [rows...]}, collections in
//     plan order, only those with rows. Values are typed: int64 exact,
//     decimals with every digit (never through a float), timestamps in
//     RFC 3339 with their offset and sub-seconds (the reference dropped
//     both), bytes in base64, ObjectIds in hex. Keys are sorted, so a
//     package is deterministic byte for byte.
//   - CSV is a zip with one file per collection named
//     "<dataset>.<collection>.csv" (the reference used a colon, which
//     Windows and some unzip tools refuse), nested fields as dotted
//     columns, lists and objects as JSON text in their cell. A cell that a
//     spreadsheet would run as a formula (starting with =, +, -, @, tab or
//     carriage return) is prefixed with a single quote.
//   - Encryption is the reference's: base64(nonce || AES-GCM(key, nonce,
//     plaintext, aad = nonce)) with a 12-byte random nonce, with keys of
//     16, 24 or 32 bytes (the reference took only 16).
package pack
