// Command slow is a plugin fixture that never finishes starting: it does
// not print go-plugin's handshake line before the host gives up on it.
package main

import "time"

func main() {
	time.Sleep(time.Hour)
}
