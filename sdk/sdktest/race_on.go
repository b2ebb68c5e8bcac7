//go:build race

package sdktest

// raceEnabled: the test binary runs with the race detector, and plugins
// built by BuildPlugin get it too.
const raceEnabled = true
