package drp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// DefaultReplayWindow is how long an exercise sent again answers the
// request the first one created, when drp.replay_window is not set.
const DefaultReplayWindow = 24 * time.Hour

// Replay says which earlier exercise an exercise repeats.
type Replay struct {
	// Key is the request's idempotency key.
	Key string
	// Until is when the key stops answering the earlier request: the
	// window after now, or the token's exp (plus Leeway) when sooner.
	Until time.Time
}

// ReplayOf keys an exercise for replays. Two exercises are the same
// request when the same caller (the agent, or the API client) sends the
// same identity token for the same action under the same regime with the
// same agent request id. Everything that changes what is done, under
// which law, or which request of the agent it is, makes another request:
// an access and a deletion with one token (agents send tokens without
// jti, iat or exp, so a consumer's token is the same every time) are two
// requests. status_callback (where to report) and relationships (the
// consumer's ties to the business, informational) do not change what is
// done and are not part of the key.
//
// The key holds no personal data: a SHA-256 of the parts, the token among
// them (itself signed with a key the store never sees).
func ReplayOf(caller, action, regime, agentRequestID string, id Identity, now time.Time, window time.Duration) Replay {
	if regime == "" {
		regime = "voluntary" // an omitted regime is a voluntary request
	}
	if window <= 0 {
		window = DefaultReplayWindow
	}
	h := sha256.New()
	for _, part := range []string{"lethe drp replay v2", caller, action, regime, agentRequestID, id.Digest} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part)))) // length-prefixed: unambiguous
		h.Write([]byte(part))
	}
	until := now.Add(window)
	if !id.ExpiresAt.IsZero() {
		if end := id.ExpiresAt.Add(Leeway); end.Before(until) {
			until = end
		}
	}
	return Replay{Key: "drp:" + hex.EncodeToString(h.Sum(nil)), Until: until.UTC()}
}
