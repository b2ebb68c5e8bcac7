// Package mytest gives tests a fresh database on the MySQL or MariaDB
// server of LETHE_TEST_MYSQL_DSN (default: root on 127.0.0.1:3306).
package mytest
