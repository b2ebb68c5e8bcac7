// Package fault classifies errors that cross the plugin boundary. A plugin
// author marks an error as permanent (bad configuration or request: retrying
// cannot help) or transient (a dropped connection, a timeout: the host
// retries the node). Unmarked errors are treated as transient by the host,
// which retries them a bounded number of times.
package fault
