// Package dataset holds the model of what operators declare about their data:
// datasets, collections, fields, references and identities. It is built by
// core/config from HCL (or by the importer from the reference YAML) and read
// by core/graph and core/plan. It has no behaviour beyond small lookups.
package dataset
