// Package mongotest gives tests a fresh database on the MongoDB-wire server
// of LETHE_TEST_MONGO_URI (default: mongodb://127.0.0.1:27017/, the FerretDB
// that scripts/servers.sh starts).
package mongotest
