// Package identity holds the normalizations an operator may declare for an
// identity (config: identity "email" { normalize = [...] }). Lethe matches
// identity values exactly, byte for byte, in every connector; a
// normalization is the one, explicit way to match values that differ in
// case or surrounding spaces. It is applied once, when a request is
// submitted (core/execute.Engine.Submit, the intake of the CLI, the API
// and DRP), to the value every later step uses; never by a database
// collation.
//
// The default is no normalization: exact match.
package identity
