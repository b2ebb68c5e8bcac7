// Package execute runs privacy requests: it plans a request over the
// current datasets, queries each reached collection through its connector
// plugin (access), packages what the policy's access rules select and
// uploads it through storage plugins, and masks what its erasure rules
// target (erasure).
//
// Every step is checkpointed in the store before the next one relies on it:
// a node's rows are written page by page and the node is marked done in the
// same transaction as its event; an upload is marked done with its
// location; an erasure node is marked done with its count. A request run
// again after a crash (Engine.Run on the same id) skips every done node and
// upload and never queries or masks them again. Erasure batches are
// idempotent (they set masked values computed from the checkpointed
// originals), so a crash between a batch's commit and the node's checkpoint
// leaves the same data after the re-run.
//
// A request's status says complete only once every node, upload and
// erasure is durably done; any failure that retries cannot fix ends it in
// error with the reason, with its checkpoints kept for a retry.
package execute
