// Package pgtest gives tests a fresh PostgreSQL database on the server of
// LETHE_TEST_PG_DSN (default: the trust-auth server on 127.0.0.1:5432).
package pgtest
