package execute

import (
	"encoding/json"
	"fmt"

	"github.com/lethehq/lethe/core/policy"
)

// submissionKind marks the sealed record stored with a request at
// submission: its policy as it was then and its masking secrets. (Requests
// stored before it hold the bare masking secrets.)
const submissionKind = "lethe-submission-v1"

type submission struct {
	Kind    string          `json:"kind"`
	Policy  json.RawMessage `json:"policy"`
	Secrets []byte          `json:"secrets,omitempty"`
}

func encodeSubmission(pol *policy.Policy, secrets []byte) ([]byte, error) {
	snap, err := pol.MarshalSnapshot()
	if err != nil {
		return nil, fmt.Errorf("snapshot policy %q: %w", pol.Name, err)
	}
	return json.Marshal(submission{Kind: submissionKind, Policy: snap, Secrets: secrets})
}

// decodeSubmission returns the policy snapshot (nil for a record without
// one) and the masking secrets.
func decodeSubmission(raw []byte) (*policy.Policy, []byte, error) {
	var s submission
	if json.Unmarshal(raw, &s) != nil || s.Kind != submissionKind {
		return nil, raw, nil // bare masking secrets
	}
	pol, err := policy.UnmarshalSnapshot(s.Policy)
	if err != nil {
		return nil, nil, err
	}
	return pol, s.Secrets, nil
}
