// Package importer converts datasets written for the reference system
// (Fidesops dataset YAML) into Lethe's HCL.
//
// ParseFidesops builds the dataset model straight from the YAML; Fidesops
// renders that same model as HCL, together with everything Lethe has no
// place for in the model (names, descriptions of collections and fields,
// fideslang keys, YAML comments, keys the format does not know), which it
// keeps as comments. Nothing in the input is dropped silently: what is not
// converted is a comment, and what may need the operator's attention
// (unknown keys, categories missing from the default taxonomy, attributes
// Fidesops itself ignores) is also returned as a warning.
package importer
