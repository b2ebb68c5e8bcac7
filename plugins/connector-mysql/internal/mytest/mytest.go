package mytest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// DefaultDSN is the server tests use when LETHE_TEST_MYSQL_DSN is unset.
const DefaultDSN = "root@tcp(127.0.0.1:3306)/"

// ServerConfig returns the test server's driver configuration.
func ServerConfig(t testing.TB) *mysql.Config {
	t.Helper()
	dsn := os.Getenv("LETHE_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = DefaultDSN
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("LETHE_TEST_MYSQL_DSN: %v", err)
	}
	return cfg
}

// NewDatabase creates a database with a random name, drops it when the
// test ends, and returns its DSN. When the server does not answer the
// test fails if CI=true and is skipped with the reason otherwise.
func NewDatabase(t testing.TB, prefix string) string {
	t.Helper()
	cfg := ServerConfig(t)
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		msg := "MySQL/MariaDB at " + cfg.Addr + " is not reachable (set LETHE_TEST_MYSQL_DSN, or run make test, which starts it): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE `" + name + "`"); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("mysql", cfg.FormatDSN())
		if err == nil {
			_, err = a.Exec("DROP DATABASE IF EXISTS `" + name + "`")
			a.Close()
		}
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// Open opens dsn with multiple statements allowed, closed when the test ends.
func Open(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MultiStatements = true
	cfg.ParseTime = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// AllowLargePackets makes sure the server takes the conformance suite's
// 10 MiB values: a row or an UPDATE carrying one travels in a single
// packet, which the server refuses beyond max_allowed_packet (MariaDB's
// default is 16 MiB, enough; MySQL 5.7's is 4 MiB, not). Below 16 MiB it
// raises the global value to 64 MiB, which needs SUPER or
// SYSTEM_VARIABLES_ADMIN (root has it); only connections opened afterwards
// see the new value, so call it before opening the pools the test uses.
func AllowLargePackets(t testing.TB) {
	t.Helper()
	db, err := sql.Open("mysql", ServerConfig(t).FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size int64
	if err := db.QueryRow("SELECT @@GLOBAL.max_allowed_packet").Scan(&size); err != nil {
		t.Fatalf("read max_allowed_packet: %v", err)
	}
	if size >= 16<<20 {
		return
	}
	if _, err := db.Exec("SET GLOBAL max_allowed_packet = 67108864"); err != nil {
		t.Fatalf("max_allowed_packet is %d bytes, too small for 10 MiB values, and raising it failed: %v", size, err)
	}
	t.Logf("raised the server's max_allowed_packet from %d bytes to 64 MiB", size)
}
