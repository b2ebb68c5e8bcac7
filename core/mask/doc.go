// Package mask computes the new values erasure writes: the six masking
// strategies of the reference system (null_rewrite, string_rewrite,
// random_string_rewrite, hash, hmac, aes_encrypt) with its byte formats and
// its per-request secrets model (in Fidesops).
//
// Differences from the reference, all deliberate:
//   - NULL (nil) stays NULL under every strategy; the reference crashed on
//     NULL under hash, hmac and aes_encrypt.
//   - A value that is not a string under any strategy but null_rewrite is an
//     error (*TypeError), never a silent skip.
//   - Truncation to a field's length counts runes (Unicode code points),
//     which is what the reference's Python slicing val[:length] counts too;
//     slicing Go strings by bytes would both differ from the reference and
//     cut multi-byte characters in half.
//
// The package is pure Go (standard library only). Secrets are generated
// once per privacy request (NewSecrets) and kept durably by the caller.
package mask
