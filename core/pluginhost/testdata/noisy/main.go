// Command noisy is a plugin fixture that prints to stdout before the
// go-plugin handshake, as an init() of some dependency might. What it would
// do next does not matter: the host stops at that first line.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("noisy fixture says hello")
	time.Sleep(time.Hour)
}
