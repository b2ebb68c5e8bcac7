// Package store keeps Lethe's durable state: privacy requests with their
// indexes, per-request masking secrets, per-node checkpoints (encrypted row
// pages and results), per-request event logs and small per-request blobs.
//
// Store is the interface the engine and the API use. Bolt implements it on
// one bbolt file in the state directory; a clustered store may replace it
// without touching its callers, so nothing here exposes bbolt types.
//
// Rules every implementation keeps:
//
//   - Every state change is one transaction. A request's status never says
//     more than what has been durably done: FinishNode commits the node's
//     result and its event together, Transition commits the new status, the
//     indexes and the event together.
//   - Personal data at rest is encrypted with AES-256-GCM under a key derived
//     from the server key: identity values, the requester's result key,
//     masking secrets, checkpoint row pages and blobs. Each ciphertext is
//     bound to the record that holds it (bucket and key as additional
//     authenticated data), so ciphertexts cannot be moved between records.
//   - Identities are searchable only through a keyed hash (a blind index).
//   - Long reads page through short read transactions and copy bytes out:
//     no read transaction stays open while a caller's callback runs.
//
// Callers must never put personal data into fields stored in the clear:
// Event.Node, Request.ExternalID, Request.IdempotencyKey,
// NodeResult.Detail, blob names and node names. Request.Reason and
// Event.Error are sealed (schema 2) because they carry error texts, which
// may quote a value redaction missed; callers still redact them.
package store
