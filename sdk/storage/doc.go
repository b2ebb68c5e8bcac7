// Package storage is what a storage plugin's author writes against: a
// Definition with a constructor, a Store with three methods, and one Serve
// call in main.
package storage
