package drp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/lethehq/lethe/core/policy"
)

// Exercise is the body of POST /exercise.
type Exercise struct {
	Meta           Meta     `json:"meta"`
	Regime         string   `json:"regime,omitempty"`
	Exercise       []string `json:"exercise"`
	Relationships  []string `json:"relationships,omitempty"`
	Identity       string   `json:"identity"`
	StatusCallback string   `json:"status_callback,omitempty"`
	// AgentRequestID is the agent's own id for the request (DRP 1.0
	// calls it agent-request-id); kept as the request's external id.
	AgentRequestID string `json:"agent_request_id,omitempty"`
}

// Meta is the exercise body's meta object.
type Meta struct {
	Version string `json:"version"`
}

// MaxBody bounds a DRP request body.
const MaxBody = 64 << 10

// ParseExercise decodes and checks an exercise body. It returns the one
// action in its normal (underscore) form. Every problem is an error whose
// message says what to fix.
func ParseExercise(body []byte) (*Exercise, string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var ex Exercise
	if err := dec.Decode(&ex); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return nil, "", fmt.Errorf("%s: expected %s, got a JSON %s", typ.Field, typ.Type, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return nil, "", fmt.Errorf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return nil, "", fmt.Errorf("malformed JSON: %v", err)
	}
	if dec.More() {
		return nil, "", errors.New("the body holds more than one JSON value")
	}
	switch ex.Meta.Version {
	case "0.5", "0.4":
	case "":
		return nil, "", errors.New(`meta.version is missing; send {"meta": {"version": "0.5"}}`)
	default:
		return nil, "", fmt.Errorf("meta.version %q is not served; this endpoint speaks DRP 0.5", ex.Meta.Version)
	}
	switch ex.Regime {
	case "", "ccpa", "voluntary":
	default:
		return nil, "", fmt.Errorf("regime %q is not served; use ccpa, or omit it for a voluntary request", ex.Regime)
	}
	switch len(ex.Exercise) {
	case 0:
		return nil, "", errors.New("exercise is empty; give one right, like [\"access\"]")
	case 1:
	default:
		return nil, "", errors.New("exercise holds several rights; send one request per right")
	}
	action, ok := policy.NormalizeDRPAction(ex.Exercise[0])
	if !ok {
		return nil, "", fmt.Errorf("unsupported rights action %q; the rights are %s", ex.Exercise[0], strings.Join(policy.DRPActions, ", "))
	}
	if ex.Identity == "" {
		return nil, "", errors.New("identity is missing; send the consumer's identity as a signed JWT")
	}
	return &ex, action, nil
}

// CheckCallback checks a status_callback URL: http or https, no user
// info, and a host the operator allows (drp.callback_hosts, by host name
// or host:port).
func CheckCallback(raw string, allowed []string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("status_callback must be an absolute http or https URL")
	}
	if u.User != nil {
		return nil, errors.New("status_callback must not carry user credentials")
	}
	for _, h := range allowed {
		if strings.EqualFold(h, u.Host) || strings.EqualFold(h, u.Hostname()) {
			return u, nil
		}
	}
	if len(allowed) == 0 {
		return nil, errors.New("status callbacks are not enabled: the operator allows no callback host (drp.callback_hosts)")
	}
	return nil, fmt.Errorf("status_callback host %q is not one the operator allows (drp.callback_hosts)", u.Host)
}
