package api

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/lethehq/lethe/core/mask"
)

// Bounds of PUT /api/v1/masking/mask. Each parameter is bounded, and so is
// the answer: without them a 1 MB call asking to rewrite 1,000 values to a
// 1 MB string made the daemon build a 1 GB answer.
const (
	// MaxMaskValues is how many values one call may mask.
	MaxMaskValues = 1000
	// MaxMaskValueBytes bounds each value.
	MaxMaskValueBytes = 8 << 10
	// MaxRewriteValueBytes bounds string_rewrite's rewrite_value.
	MaxRewriteValueBytes = 1 << 10
	// MaxMaskAnswerBytes bounds the answer (its JSON, worst case), checked
	// before anything is masked.
	MaxMaskAnswerBytes = 4 << 20
)

// MaskBody is the body of PUT /masking/mask.
type MaskBody struct {
	Values          []string     `json:"values"`
	MaskingStrategy MaskStrategy `json:"masking_strategy"`
}

// MaskStrategy names a strategy and its configuration, as the reference.
type MaskStrategy struct {
	Strategy      string         `json:"strategy"`
	Configuration map[string]any `json:"configuration,omitempty"`
}

// MaskResult is the answer of PUT /masking/mask.
type MaskResult struct {
	Plain        []string  `json:"plain"`
	MaskedValues []*string `json:"masked_values"`
}

// limitError is the answer to a call beyond one of the bounds: 422 for a
// parameter, 413 for the answer; details name the bound.
func limitError(status int, limit string, max, got int, format string, args ...any) *Error {
	return &Error{Status: status, Code: "limit_exceeded", Message: fmt.Sprintf(format, args...),
		Details: map[string]any{"limit": limit, "max": max, "got": got}}
}

func (s *Server) mask(w http.ResponseWriter, r *http.Request, _ Principal) error {
	var body MaskBody
	if err := decode(r, &body); err != nil {
		return err
	}
	spec, err := checkMask(body)
	if err != nil {
		return err
	}
	out, err := mask.MaskValues(body.Values, mask.Chain{spec})
	if err != nil {
		return badRequest("%v", err)
	}
	writeJSON(w, http.StatusOK, MaskResult{Plain: body.Values, MaskedValues: out})
	return nil
}

// checkMask checks a masking call against every bound, the size of its
// answer included, and returns its strategy.
func checkMask(body MaskBody) (mask.Spec, error) {
	if n := len(body.Values); n > MaxMaskValues {
		return mask.Spec{}, limitError(http.StatusUnprocessableEntity, "values", MaxMaskValues, n, "%d values; mask at most %d per call", n, MaxMaskValues)
	}
	for i, v := range body.Values {
		if len(v) > MaxMaskValueBytes {
			return mask.Spec{}, limitError(http.StatusUnprocessableEntity, "value_bytes", MaxMaskValueBytes, len(v),
				"value %d is %d bytes long; each value may be at most %d bytes", i, len(v), MaxMaskValueBytes)
		}
	}
	spec, err := maskSpec(body.MaskingStrategy)
	if err != nil {
		return spec, err
	}
	if n := maskAnswerBound(body.Values, spec); n > MaxMaskAnswerBytes {
		return spec, limitError(http.StatusRequestEntityTooLarge, "answer_bytes", MaxMaskAnswerBytes, n,
			"the answer would be up to %d bytes, more than %d; mask fewer or shorter values per call", n, MaxMaskAnswerBytes)
	}
	return spec, nil
}

// maskAnswerBound is an upper bound of the size of the JSON answer to
// masking values with spec.
func maskAnswerBound(values []string, spec mask.Spec) int {
	n := len(`{"plain":[],"masked_values":[]}`) + 1
	suffix := jsonLen(spec.FormatSuffix) - 2
	for _, v := range values {
		n += jsonLen(v) + 2 // the plain value and two commas
		var m int
		switch spec.Strategy {
		case mask.NullRewrite:
			m = len("null")
		case mask.StringRewrite:
			m = jsonLen(spec.RewriteValue)
		case mask.RandomStringRewrite:
			l := spec.Length
			if l == 0 {
				l = mask.DefaultLength
			}
			m = l + 2
		case mask.Hash, mask.HMAC:
			m = 128 + 2 // SHA-512 in hex at most
		case mask.AESEncrypt:
			m = 4*((len(v)+16+2)/3) + 2 // base64 of the value and its 16-byte tag
		default:
			m = jsonLen(v) // unknown strategies are refused before
		}
		if spec.Strategy != mask.NullRewrite {
			m += suffix
		}
		n += m
	}
	return n
}

// jsonLen is the length of s as a JSON string (quotes included) as
// writeJSON encodes it: control characters, invalid UTF-8 and U+2028/9
// take up to six bytes each.
func jsonLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\n' || b == '\r' || b == '\t':
				n += 2
			case b < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			n += 6
		case c == '\u2028' || c == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

func maskSpec(ms MaskStrategy) (mask.Spec, error) {
	spec := mask.Spec{Strategy: ms.Strategy}
	for k, v := range ms.Configuration {
		switch k {
		case "rewrite_value":
			s, ok := v.(string)
			if !ok {
				return spec, badRequest("masking_strategy.configuration.rewrite_value must be a string")
			}
			if len(s) > MaxRewriteValueBytes {
				return spec, limitError(http.StatusUnprocessableEntity, "rewrite_value_bytes", MaxRewriteValueBytes, len(s),
					"masking_strategy.configuration.rewrite_value is %d bytes long; it may be at most %d", len(s), MaxRewriteValueBytes)
			}
			spec.RewriteValue = s
		case "length":
			n, ok := v.(float64)
			if !ok || n != float64(int(n)) {
				return spec, badRequest("masking_strategy.configuration.length must be a whole number")
			}
			if n < 0 || n > mask.MaxLength {
				return spec, badRequest("masking_strategy.configuration.length must be between 1 and %d", mask.MaxLength)
			}
			spec.Length = int(n)
		case "algorithm":
			s, ok := v.(string)
			if !ok {
				return spec, badRequest("masking_strategy.configuration.algorithm must be a string")
			}
			// SHA-256, sha256 and SHA256 all name mask.SHA256.
			switch strings.ReplaceAll(strings.ToUpper(s), "-", "") {
			case "SHA256":
				spec.Algorithm = mask.SHA256
			case "SHA512":
				spec.Algorithm = mask.SHA512
			default:
				spec.Algorithm = s
			}
		case "mode":
			s, ok := v.(string)
			if !ok {
				return spec, badRequest("masking_strategy.configuration.mode must be a string")
			}
			spec.Mode = s
		case "format_preservation":
			m, ok := v.(map[string]any)
			suffix, ok2 := m["suffix"].(string)
			if !ok || !ok2 || len(m) != 1 {
				return spec, badRequest(`masking_strategy.configuration.format_preservation must be {"suffix": "..."}`)
			}
			spec.FormatSuffix = suffix
		default:
			return spec, badRequest("unknown masking configuration %q", k)
		}
	}
	if err := spec.Validate(); err != nil {
		return spec, badRequest("%v", err)
	}
	return spec, nil
}
