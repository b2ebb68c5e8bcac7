// Package catalog holds the configuration in force: the HCL files' plus
// the objects created through the API (policies with their rules and
// targets, storage destinations, connections, datasets, and the secrets of
// storages and connections), which it keeps in the store and loads again
// at start.
//
// Every change is checked the way `lethe validate` checks the files: the
// whole configuration with the change applied is validated (references,
// categories, masking, the dataset graph, each plugin config against its
// plugin's schema) before anything is stored, and a change is refused with
// every problem listed. Objects declared in HCL files are read-only here:
// a write to one is a *DeclaredError naming the file.
package catalog
