// Package graph holds the graph of every declared collection: one node per
// dataset.collection, edges from field references, identity seeds, and the
// `after` / `erase_after` constraints between collections. Build checks the
// graph once, at configuration load; Traverse orders it for one request
// (which identities are supplied decides which collections are reached and
// how references without a direction are oriented). Package plan turns a
// traversal into the plan a request executes.
//
// Everything here is deterministic: nodes are numbered in address order
// (dataset, then collection), edges in declaration order over that node
// order, and no output depends on the order of a map or of the input slice.
package graph
