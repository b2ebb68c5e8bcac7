// Package config loads a Lethe deployment: a directory of *.hcl files with
// server, auth, drp, egress, plugin, connection, storage, dataset, policy,
// data_category and identity blocks (see docs/configuration.md).
//
// Load parses and decodes the files, reporting syntax, unknown or
// duplicate blocks and attributes, and wrong types. Validate then checks
// the declarations against each other (references, categories, policies).
// CheckPluginConfigs checks connection and storage configs against the
// schemas their plugins describe. Each reports hcl.Diagnostics with file,
// line and column; none of them ever contains a secret value. Render them
// with WriteDiagnostics, which masks secrets in the source snippets.
package config
