// Package local stores access packages in a directory on the local disk.
//
// Objects are written atomically: into a hidden temporary file beside the
// final one, fsynced, renamed over the final name, and the directory
// fsynced, so a reader sees the whole object or none, and a crash leaves at
// most a temporary file. A failed or cancelled upload removes its temporary
// file.
//
// Nothing is ever written outside the directory. Keys are checked with
// storage.ValidKey (no "..", no absolute paths), and every file operation
// goes through an os.Root opened on the directory, which also refuses to
// follow a symbolic link that leads out of it.
package local
