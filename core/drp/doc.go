// Package drp is the Data Rights Protocol 0.5 as Lethe serves it: the
// identity token authorized agents send, the exercise body, the status
// object and the mapping of Lethe's statuses onto DRP's, and the status
// callbacks. The HTTP routes live in core/api, in the one route table.
package drp
