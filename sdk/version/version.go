package version

// SDK is the version of this SDK module. Plugins report it in Describe so the
// host can tell an operator which SDK to rebuild a plugin with.
const SDK = "0.1.0"

// ProtocolMajor is the wire protocol major (proto package v1). It is
// negotiated through go-plugin's VersionedPlugins and bumped only for
// breaking wire changes.
const ProtocolMajor = 1

// ProtocolMinor counts additive changes inside ProtocolMajor. 1: schema
// attributes marked destination or path, and the egress policy in Configure.
// 2: a time without time_zone_offset_seconds is in no zone (value.LocalTime).
const ProtocolMinor = 2

// MagicCookieKey and MagicCookieValue tell a plugin binary that Lethe started
// it. They are a usability check, not a security measure, and never change.
const (
	MagicCookieKey   = "LETHE_PLUGIN_MAGIC_COOKIE"
	MagicCookieValue = "6f1c2b8e0a4d9e73c5b1f08a2d4e6c9b7a3f5d1e8c0b2a4f6e8d0c2b4a6f8e1d"
)

// EnvLogLevel is the environment variable through which the host sets a
// plugin's log level (trace, debug, info, warn, error).
const EnvLogLevel = "LETHE_PLUGIN_LOG_LEVEL"
