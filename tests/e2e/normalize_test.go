package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestIdentityNormalization: by default an identity value matches exactly
// (upper case and a trailing space find nobody); with an identity block
// declaring trim and lowercase, the same value is normalized once at
// intake, finds jane@example.com's rows, and the plan and the run say
// which normalizations applied. The value itself is never printed.
func TestIdentityNormalization(t *testing.T) {
	b := newBackend(t, "sqlite")
	dir, _ := b.config(t)
	const value = "email=JANE@Example.COM "

	exact := mustComplete(t, nil, dir, "--policy", "access", "--identity", value)
	if got := canonicalPackage(t, exact.pkg); got != "\n" {
		t.Errorf("without normalization, a differently cased value found rows:\n%s", got)
	}
	if strings.Contains(exact.stdout, "normalized") {
		t.Errorf("no normalization is declared, but the run says one applied:\n%s", exact.stdout)
	}

	block := "\nidentity \"email\" {\n  normalize = [\"trim\", \"lowercase\"]\n}\n"
	f, err := os.OpenFile(filepath.Join(dir, "dataset.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(block); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := mustComplete(t, nil, dir, "--policy", "access", "--identity", value)
	golden, err := os.ReadFile(filepath.Join("testdata", "access_jane.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonicalPackage(t, r.pkg), canonicalJSON(t, golden); got != want {
		t.Errorf("with trim and lowercase, the package differs from Jane's:\n got:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(r.stdout, "Identity email normalized at intake: trim, lowercase") {
		t.Errorf("the run does not say which normalizations applied:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "JANE@") {
		t.Errorf("the run printed the identity value:\n%s", r)
	}

	bin, _ := binaries(t)
	out, err := exec.Command(bin, "plan", dir, "--policy", "access", "--identity", value, "--queries=false").CombinedOutput()
	if err != nil {
		t.Fatalf("lethe plan: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "email is normalized at intake: trim, lowercase") {
		t.Errorf("the plan does not show the normalization:\n%s", out)
	}
}
