package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func maskCall(t testing.TB, s *Server, token string, body any) *httptest.ResponseRecorder {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("PUT", "/api/v1/masking/mask", strings.NewReader(string(raw)))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func maskBody(values []string, strategy string, conf map[string]any) map[string]any {
	return map[string]any{"values": values, "masking_strategy": map[string]any{"strategy": strategy, "configuration": conf}}
}

// TestMaskNeedsScope: the masking route needs masking:exec, unless
// server.public_masking opens it.
func TestMaskNeedsScope(t *testing.T) {
	body := maskBody([]string{"a"}, "hash", nil)
	s := testServer(t)
	if rec := maskCall(t, s, "", body); rec.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d %s, want 401", rec.Code, rec.Body)
	}
	if rec := maskCall(t, s, "token:policy:read", body); rec.Code != http.StatusForbidden {
		t.Errorf("without masking:exec: %d %s, want 403", rec.Code, rec.Body)
	}
	if rec := maskCall(t, s, "token:masking:exec", body); rec.Code != http.StatusOK {
		t.Errorf("with masking:exec: %d %s, want 200", rec.Code, rec.Body)
	}
	open, _ := newServer(t, "server {\n  public_masking = true\n}\n")
	if rec := maskCall(t, open, "", body); rec.Code != http.StatusOK {
		t.Errorf("public_masking without a token: %d %s, want 200", rec.Code, rec.Body)
	}
}

// TestMaskBounds: the finding was 1,000 values with a large rewrite_value
// making a 1,000-fold answer. Every parameter is bounded, and so is the
// answer; beyond a bound the answer is 422 or 413 naming the bound.
func TestMaskBounds(t *testing.T) {
	s := testServer(t)
	const tok = "token:masking:exec"
	thousand := make([]string, MaxMaskValues)
	for i := range thousand {
		thousand[i] = "v"
	}
	for _, tc := range []struct {
		name  string
		body  any
		code  int
		limit string
	}{
		{"the reproduction: 1,000 values, a 100 kB rewrite_value", maskBody(thousand, "string_rewrite", map[string]any{"rewrite_value": strings.Repeat("x", 100_000)}), 422, "rewrite_value"},
		{"too many values", maskBody(append(thousand, "v"), "hash", nil), 422, "values"},
		{"a value too long", maskBody([]string{strings.Repeat("y", MaxMaskValueBytes+1)}, "hash", nil), 422, "value"},
		{"random length too large", maskBody([]string{"a"}, "random_string_rewrite", map[string]any{"length": 1_000_000}), 400, "length"},
		{"suffix too long", maskBody([]string{"a"}, "hash", map[string]any{"format_preservation": map[string]any{"suffix": strings.Repeat("s", 10_000)}}), 400, "suffix"},
		{"answer too large: escaped rewrites", maskBody(thousand, "string_rewrite", map[string]any{"rewrite_value": strings.Repeat("\x01", MaxRewriteValueBytes)}), 413, "answer"},
		{"within every bound", maskBody(thousand, "string_rewrite", map[string]any{"rewrite_value": strings.Repeat("x", MaxRewriteValueBytes)}), 200, ""},
	} {
		rec := maskCall(t, s, tok, tc.body)
		if rec.Code != tc.code || (tc.limit != "" && !strings.Contains(rec.Body.String(), tc.limit)) {
			t.Errorf("%s: %d %.300s, want %d naming %q", tc.name, rec.Code, rec.Body, tc.code, tc.limit)
		}
		if rec.Body.Len() > MaxMaskAnswerBytes {
			t.Errorf("%s: a %d-byte answer, more than %d", tc.name, rec.Body.Len(), MaxMaskAnswerBytes)
		}
	}
}

// FuzzMaskBounds: any body is either refused with a 4xx or answered
// within MaxMaskAnswerBytes.
func FuzzMaskBounds(f *testing.F) {
	s := testServer(f)
	for _, seed := range []string{
		`{"values": ["a", "b"], "masking_strategy": {"strategy": "hash"}}`,
		`{"values": ["\u0001\u2028"], "masking_strategy": {"strategy": "string_rewrite", "configuration": {"rewrite_value": "\u0000\u0000"}}}`,
		`{"values": ["x"], "masking_strategy": {"strategy": "aes_encrypt", "configuration": {"format_preservation": {"suffix": "\"\""}}}}`,
		`{"values": ["x"], "masking_strategy": {"strategy": "random_string_rewrite", "configuration": {"length": 1000}}}`,
		`{"values": ["x"], "masking_strategy": {"strategy": "hmac", "configuration": {"algorithm": "SHA-512"}}}`,
		`{"values": [null], "masking_strategy": {"strategy": "null_rewrite"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("PUT", "/api/v1/masking/mask", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer token:masking:exec")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
			if rec.Body.Len() > MaxMaskAnswerBytes {
				t.Fatalf("a %d-byte answer", rec.Body.Len())
			}
			var out MaskResult
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("answer: %v", err)
			}
		case rec.Code >= 400 && rec.Code < 500:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// TestMaskAnswerBound: the computed bound holds for answers near it.
func TestMaskAnswerBound(t *testing.T) {
	s := testServer(t)
	values := []string{"", "a", "\x00\x1f\"\\\n", "\u2028é\xff", strings.Repeat("\x01", 100)}
	for _, conf := range []map[string]any{
		{"strategy": "string_rewrite", "configuration": map[string]any{"rewrite_value": "\x02\u2029\xfe", "format_preservation": map[string]any{"suffix": "\x03"}}},
		{"strategy": "aes_encrypt", "configuration": map[string]any{"format_preservation": map[string]any{"suffix": "\x03"}}},
		{"strategy": "hash", "configuration": map[string]any{"algorithm": "SHA-512"}},
		{"strategy": "random_string_rewrite", "configuration": map[string]any{"length": 7}},
		{"strategy": "null_rewrite"},
	} {
		body := map[string]any{"values": values, "masking_strategy": conf}
		rec := maskCall(t, s, "token:masking:exec", body)
		if rec.Code != 200 {
			t.Fatalf("%v: %d %s", conf, rec.Code, rec.Body)
		}
		spec, err := maskSpec(MaskStrategy{Strategy: conf["strategy"].(string), Configuration: asMap(conf["configuration"])})
		if err != nil {
			t.Fatal(err)
		}
		var in MaskBody
		raw, _ := json.Marshal(body)
		_ = json.Unmarshal(raw, &in)
		if bound := maskAnswerBound(in.Values, spec); rec.Body.Len() > bound {
			t.Errorf("%v: a %d-byte answer, bound %d", conf["strategy"], rec.Body.Len(), bound)
		}
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	raw, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}
