package execute

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/store"
)

// TestIdentityNormalizationAtIntake: values are matched exactly unless an
// identity block declares normalizations; then Submit applies them once,
// stores the normalized value and records which steps it applied.
func TestIdentityNormalizationAtIntake(t *testing.T) {
	cases := []struct {
		name      string
		block     string
		value     string
		wantValue string
		wantNorm  map[string][]string
		wantFound int64 // users found
		wantErr   string
	}{
		{"exact by default", "", " JANE@Example.com ", " JANE@Example.com ", nil, 0, ""},
		{"exact value", "", "jane@example.com", "jane@example.com", nil, 1, ""},
		{"trim and lowercase", `identity "email" { normalize = ["trim", "lowercase"] }`, " JANE@Example.com\t", "jane@example.com", map[string][]string{"email": {"trim", "lowercase"}}, 1, ""},
		{"accents are not removed", `identity "email" { normalize = ["trim", "lowercase"] }`, "JANE@EXÄMPLE.COM ", "jane@exämple.com", map[string][]string{"email": {"trim", "lowercase"}}, 0, ""},
		{"empty once trimmed", `identity "email" { normalize = ["trim"] }`, "   ", "", nil, 0, `identity "email" (normalized with trim): the value is empty once normalized`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": mainHCL, "shop.hcl": shopHCL + tc.block, "policies.hcl": policiesHCL}
			e := newEnv(t, shopDB(), files)
			eng := e.engine(t, nil)
			req, err := eng.Submit(context.Background(), Submission{Policy: "access", Identities: map[string]string{"email": tc.value}})
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := e.st.Get(context.Background(), req.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := stored.Identities["email"]; got != tc.wantValue {
				t.Errorf("stored value %q, want %q", got, tc.wantValue)
			}
			if !reflect.DeepEqual(stored.Normalized, tc.wantNorm) {
				t.Errorf("normalized %v, want %v", stored.Normalized, tc.wantNorm)
			}
			done, err := eng.Run(context.Background(), req.ID)
			if err != nil || done.Status != store.StatusComplete {
				t.Fatalf("run: %v", err)
			}
			if got := done.Counts["app.users"].Found; got != tc.wantFound {
				t.Errorf("users found %d, want %d", got, tc.wantFound)
			}
		})
	}
}

func TestNormalizeErrorsNeverQuoteTheValue(t *testing.T) {
	files := map[string]string{"main.hcl": mainHCL, "shop.hcl": shopHCL + `identity "email" { normalize = ["lowercase"] }`, "policies.hcl": policiesHCL}
	e := newEnv(t, shopDB(), files)
	_, _, err := NormalizeIdentities(e.cfg, map[string]string{"email": "MARKER-\xff-VALUE"})
	if err == nil || strings.Contains(err.Error(), "MARKER") {
		t.Fatalf("error %v: want an error that does not quote the value", err)
	}
}
