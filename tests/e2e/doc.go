// Package e2e runs the built `lethe` binary and the bundled plugins against
// real databases: the quick-start SQLite file, PostgreSQL and MariaDB
// copies of the example schema (configs/quickstart/sample-data.sql). It
// checks the exact access package and the exact database contents after
// erasure, crash and resume (failpoints and SIGKILL), a plugin killed
// mid-node, the state directory lock, and the number of queries issued.
//
// The servers come from LETHE_TEST_PG_DSN and LETHE_TEST_MYSQL_DSN (make
// test sets both); when CI=true a missing server fails the test.
package e2e
