// Package schema describes what a plugin is and what configuration it takes.
// A plugin declares a Schema; the host validates a user's `config = {...}`
// against it before any instance is created, and redacts sensitive values.
package schema
