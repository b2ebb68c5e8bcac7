// Package auth issues and checks the API's OAuth2 client-credentials tokens.
//
// The root client comes from the configuration; other clients are created
// through the API with a subset of their creator's scopes and kept in the
// store with their secret hashed by bcrypt. Access tokens are JWTs signed
// with HS256 by a key that never leaves the server; only HS256 is accepted,
// and exp, iat and iss are required.
//
// Every token call does exactly one bcrypt comparison at the same cost,
// whether the id is the root's, a created client's or unknown, so its time
// does not tell ids apart. Root tokens carry a fingerprint of the root
// secret they were issued under: changing the secret revokes them.
package auth
