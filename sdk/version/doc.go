// Package version holds the SDK's version and the wire protocol it speaks.
package version
