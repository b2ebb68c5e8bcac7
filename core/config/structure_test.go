package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// LoadStructure plans and draws without the deployment's secrets; Load
// still refuses an unset variable.
func TestLoadStructureUnsetEnv(t *testing.T) {
	dir := t.TempDir()
	src := `server {
  encryption_key = env("LETHE_TEST_SURELY_UNSET_KEY")
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, diags := Load(dir); !diags.HasErrors() || !strings.Contains(diags.Error(), "LETHE_TEST_SURELY_UNSET_KEY") {
		t.Fatalf("Load with an unset variable: %v; want an error naming it", diags)
	}
	cfg, diags := LoadStructure(dir)
	if diags.HasErrors() {
		t.Fatalf("LoadStructure: %v", diags)
	}
	if got := cfg.Server.EncryptionKey; len(got.Reveal()) != 32 {
		t.Errorf("placeholder key has %d bytes, want 32", len(got.Reveal()))
	}
}
