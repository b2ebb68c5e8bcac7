// Package plan computes what one privacy request runs: from the checked
// graph of collections and the names of the identities the request
// supplies, the collections it reaches in a deterministic dependency order,
// how each reference between them is oriented, which field values feed
// which query, the erasure order, and the collections it skips because only
// identities it did not supply would reach them.
//
// A plan holds identity names, never identity values. The same graph and
// options always give the same plan, byte for byte in JSON and text.
package plan
