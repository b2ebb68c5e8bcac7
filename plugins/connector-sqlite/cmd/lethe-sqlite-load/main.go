// Command lethe-sqlite-load creates a SQLite database from a SQL file. The
// quick start uses it to make its example database; it replaces an existing
// file only with -replace.
//
//	lethe-sqlite-load [-replace] DB.sqlite SCRIPT.sql
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"
)

func main() {
	replace := flag.Bool("replace", false, "replace the database file when it exists")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "Usage: lethe-sqlite-load [-replace] DB_FILE SQL_FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	if err := load(flag.Arg(0), flag.Arg(1), *replace); err != nil {
		fmt.Fprintln(os.Stderr, "lethe-sqlite-load:", err)
		os.Exit(1)
	}
}

func load(dbPath, script string, replace bool) error {
	src, err := os.ReadFile(script)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dbPath); err == nil {
		if !replace {
			return fmt.Errorf("%s exists; pass -replace to recreate it", dbPath)
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(dbPath + suffix); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		return err
	}
	// Build into a temporary file and rename, so a failed script leaves no
	// half-loaded database behind.
	tmp := dbPath + ".loading"
	_ = os.Remove(tmp)
	db, err := sql.Open("sqlite", "file:"+tmp)
	if err != nil {
		return err
	}
	if _, err := db.Exec(string(src)); err != nil {
		db.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", script, err)
	}
	if err := db.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dbPath)
}
