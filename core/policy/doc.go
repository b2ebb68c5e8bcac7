// Package policy holds what a privacy request must do: access rules that
// collect data categories into a storage destination, and erasure rules that
// mask them. Policies come from HCL (core/config) or from the API as JSON;
// validation works on the model either way.
package policy
