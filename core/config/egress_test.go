package config

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

func TestEgressBlock(t *testing.T) {
	dir, cfg, diags := loadAll(t, map[string]string{"main.hcl": `
egress {
  allow_hosts    = ["DB.Example.com.", "*.corp.example"]
  allow_networks = ["10.0.0.0/8", "169.254.169.254/32", "::ffff:192.0.2.0/120", "192.0.2.7"]
  allow_ports    = [5432, 443]
  file_roots     = ["data/api", "/srv/lethe"]
}
`}, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	e := cfg.Egress
	if !e.Listed || strings.Join(e.AllowHosts, ",") != "db.example.com,*.corp.example" {
		t.Errorf("hosts: %v", e.AllowHosts)
	}
	want := []string{"10.0.0.0/8", "169.254.169.254/32", "192.0.2.0/24", "192.0.2.7/32"}
	if len(e.AllowNetworks) != len(want) {
		t.Fatalf("networks: %v", e.AllowNetworks)
	}
	for i, w := range want {
		if e.AllowNetworks[i].String() != w {
			t.Errorf("network %d: %s, want %s", i, e.AllowNetworks[i], w)
		}
	}
	if len(e.AllowPorts) != 2 || e.AllowPorts[0] != 5432 {
		t.Errorf("ports: %v", e.AllowPorts)
	}
	if e.FileRoots[0] != filepath.Join(dir, "data/api") || e.FileRoots[1] != "/srv/lethe" {
		t.Errorf("roots: %v", e.FileRoots)
	}
	api := e.ForAPI()
	if !api.Restricted || api.CheckAddr("", netip.MustParseAddr("192.0.2.1"), 5432) != nil || api.CheckAddr("", netip.MustParseAddr("8.8.8.8"), 5432) == nil {
		t.Errorf("ForAPI: %+v", api)
	}
	files := e.ForFiles()
	if files.Restricted || files.CheckAddr("", netip.MustParseAddr("169.254.169.254"), 80) != nil || files.CheckAddr("", netip.MustParseAddr("169.254.1.1"), 80) == nil {
		t.Errorf("ForFiles: %+v", files)
	}
}

func TestEgressDefaults(t *testing.T) {
	_, cfg, diags := loadAll(t, map[string]string{"main.hcl": "server {}\n"}, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	api := cfg.Egress.ForAPI()
	if api.CheckAddr("", netip.MustParseAddr("127.0.0.1"), 5432) != nil {
		t.Error("without a block, API configurations cannot reach an ordinary address")
	}
	if api.CheckAddr("", netip.MustParseAddr("169.254.169.254"), 80) == nil {
		t.Error("without a block, API configurations reach the metadata address")
	}
	if _, err := api.CheckPath(filepath.Join(t.TempDir(), "x.db")); err == nil {
		t.Error("without file_roots, API configurations open files")
	}
}

func TestEgressBlockErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`allow_hosts = ["10.0.0.1"]`, "put it in allow_networks"},
		{`allow_hosts = ["a b"]`, "not a host name"},
		{`allow_networks = ["10.0.0.0/33"]`, "not a network"},
		{`allow_ports = [0]`, "from 1 to 65535"},
		{`allow_ports = ["x"]`, "from 1 to 65535"},
		{`allow_ports = 5432`, "list of port numbers"},
		{`file_roots = [""]`, "must not be empty"},
		{`colour = "red"`, "Unsupported argument"},
	} {
		_, cfg, diags := loadAll(t, map[string]string{"main.hcl": "egress {\n  " + c.body + "\n}\n"}, nil)
		if !diags.HasErrors() || !strings.Contains(render(t, cfg, diags), c.want) {
			t.Errorf("%s: want an error with %q, got %v", c.body, c.want, diags)
		}
	}
}
