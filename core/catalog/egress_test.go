package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethehq/lethe/sdk/egress"
)

// openTesting opens the fixture's catalog with a Test that records the
// configs it is given and fails with testErr.
func (f *fixture) openTesting(t *testing.T, extraHCL string, testErr error) (*Catalog, *[]map[string]any) {
	t.Helper()
	c, err := f.open(t, extraHCL)
	if err != nil {
		t.Fatal(err)
	}
	var seen []map[string]any
	c.o.Test = func(_ context.Context, _, _ string, cfg map[string]any) error {
		seen = append(seen, cfg)
		return testErr
	}
	return c, &seen
}

// TestDestinationChangeDropsSecret is the regression test of issue 13
// item 4: a caller that may change a connection but not read its secret
// changed where the secret goes and had the test route send it there.
func TestDestinationChangeDropsSecret(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		plugin   string
		before   map[string]any
		after    map[string]any
		drop     bool
		mentions string
	}{
		{"port", "marked", map[string]any{"host": "db", "port": 5432, "user": "u"}, map[string]any{"host": "db", "port": 15432, "user": "u"}, true, `"port"`},
		{"sslmode", "marked", map[string]any{"host": "db", "sslmode": "verify-full"}, map[string]any{"host": "db", "sslmode": "disable"}, true, `"sslmode"`},
		{"host added", "marked", map[string]any{"user": "u"}, map[string]any{"user": "u", "host": "evil.example"}, true, `"host"`},
		{"plugin", "postgres", map[string]any{"host": "db"}, map[string]any{"schema": "x"}, true, "the plugin"},
		{"not a destination", "marked", map[string]any{"host": "db", "max_connections": 4}, map[string]any{"host": "db", "max_connections": 8}, false, ""},
		{"same config", "marked", map[string]any{"host": "db", "port": 5432}, map[string]any{"host": "db", "port": 5432}, false, ""},
		// postgres's test schema marks nothing: any non-sensitive change drops.
		{"unmarked schema", "postgres", map[string]any{"schema": "a"}, map[string]any{"schema": "b"}, true, `"schema"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			cat, seen := f.openTesting(t, "", nil)
			firstPlugin := "marked"
			if c.name == "unmarked schema" {
				firstPlugin = "postgres"
			}
			if _, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: firstPlugin, Access: "read", Config: c.before}); err != nil {
				t.Fatal(err)
			}
			secret := `{"password": "s3cret-stored-password"}`
			if firstPlugin == "postgres" {
				secret = `{"dsn": "postgres://u:s3cret-stored-password@db/x"}`
			}
			if _, err := cat.PutConnectionSecret(ctx, "api", json.RawMessage(secret), false); err != nil {
				t.Fatal(err)
			}
			v, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: c.plugin, Access: "read", Config: c.after})
			if err != nil {
				t.Fatal(err)
			}
			if v.SecretDropped != c.drop || v.HasSecret == c.drop {
				t.Fatalf("secret_dropped %v has_secret %v, want dropped=%v: %+v", v.SecretDropped, v.HasSecret, c.drop, v)
			}
			if c.drop && (!strings.Contains(v.Notice, c.mentions) || !strings.Contains(v.Notice, "/connection/api/secret")) {
				t.Errorf("notice %q does not name %s and the secret route", v.Notice, c.mentions)
			}
			if _, err := cat.TestConnection(ctx, "api"); err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal((*seen)[len(*seen)-1])
			if strings.Contains(string(got), "s3cret-stored-password") == c.drop {
				t.Errorf("the test was given %s", got)
			}
		})
	}
}

// TestSecretInSameCallIsUsed: a change that gives the secret again in
// the same call keeps working, with the new secret only.
func TestSecretInSameCallIsUsed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cat, seen := f.openTesting(t, "", nil)
	if _, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "marked", Access: "read", Config: map[string]any{"host": "db"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.PutConnectionSecret(ctx, "api", json.RawMessage(`{"password": "old-stored-password"}`), false); err != nil {
		t.Fatal(err)
	}
	v, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "marked", Access: "read", Config: map[string]any{"host": "db2", "password": "new-given-password"}})
	if err != nil || !v.SecretDropped {
		t.Fatalf("%+v %v", v, err)
	}
	if _, err := cat.TestConnection(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	got := (*seen)[0]
	if got["password"] != "new-given-password" {
		t.Errorf("password %v, want the one given with the change", got["password"])
	}
}

// TestStorageDestinationChangeDropsSecret: the same for storage.
func TestStorageDestinationChangeDropsSecret(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cat, _ := f.openTesting(t, "", nil)
	if _, err := cat.PutStorage(ctx, StorageInput{Key: "api", Type: "local", Details: map[string]any{"dir": "a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.PutStorageSecret(ctx, "api", json.RawMessage(`{"file_mode": "0600"}`), false); err != nil {
		t.Fatal(err)
	}
	v, err := cat.PutStorage(ctx, StorageInput{Key: "api", Type: "local", Details: map[string]any{"dir": "b"}})
	if err != nil || !v.SecretDropped || v.HasSecret || !strings.Contains(v.Notice, "/storage/config/api/secret") {
		t.Fatalf("%+v %v", v, err)
	}
}

// TestTestAnswersUnreachable: whatever the cause, the API says only
// "unreachable"; the cause goes to the log.
func TestTestAnswersUnreachable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cat, _ := f.openTesting(t, "", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"))
	if _, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "marked", Access: "read", Config: map[string]any{"host": "db"}}); err != nil {
		t.Fatal(err)
	}
	res, err := cat.TestConnection(ctx, "api")
	if err != nil || res.TestStatus != "failed" || res.FailureReason != Unreachable {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestEgressPolicyReachesPlugins: API objects carry the API's policy,
// declared ones the files'; views never show it.
func TestEgressPolicyReachesPlugins(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cat, seen := f.openTesting(t, "egress {\n  allow_networks = [\"10.0.0.0/8\"]\n}\n", nil)
	if _, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "marked", Access: "read", Config: map[string]any{"host": "db"}}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"api", "db"} {
		if _, err := cat.TestConnection(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	_, apiPol, err := egress.Detach((*seen)[0])
	if err != nil || apiPol == nil || !apiPol.Restricted || len(apiPol.AllowNetworks) != 1 {
		t.Errorf("API connection's policy: %+v %v", apiPol, err)
	}
	_, filePol, err := egress.Detach((*seen)[1])
	if err != nil || filePol == nil || filePol.Restricted {
		t.Errorf("declared connection's policy: %+v %v", filePol, err)
	}
	for _, v := range cat.Connections(ctx) {
		if _, ok := v.Config[egress.ConfigKey]; ok {
			t.Errorf("view of %s shows the policy", v.Key)
		}
	}
}

// TestAPIPathsConfinedToFileRoots: a path attribute of an API object must
// lie under file_roots, symbolic links resolved; the files' are trusted.
func TestAPIPathsConfinedToFileRoots(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	root := filepath.Join(f.dir, "roots")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	cat, _ := f.openTesting(t, "egress {\n  file_roots = [\""+root+"\"]\n}\n", nil)
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{"/etc/passwd", false},
		{filepath.Join(root, "etc", "passwd"), false},
		{filepath.Join(root, "..", "x.db"), false},
		{filepath.Join(root, "x.db"), true},
	} {
		_, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "file", Access: "read", Config: map[string]any{"path": c.path}})
		var inv *InvalidError
		if c.ok != (err == nil) || (err != nil && (!errors.As(err, &inv) || !strings.Contains(err.Error(), "file_roots"))) {
			t.Errorf("path %s: %v, want ok=%v", c.path, err, c.ok)
		}
	}
	// Without file_roots, no path.
	f2 := newFixture(t)
	cat2, _ := f2.openTesting(t, "", nil)
	if _, err := cat2.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "file", Access: "read", Config: map[string]any{"path": filepath.Join(f2.dir, "x.db")}}); err == nil {
		t.Error("a path was accepted without file_roots")
	}
}

// TestAPIDestinationAddressesChecked: addresses in any spelling are
// checked before they are stored.
func TestAPIDestinationAddressesChecked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cat, _ := f.openTesting(t, "", nil)
	for _, host := range []string{"169.254.169.254", "0xa9fea9fe", "2852039166", "::ffff:169.254.169.254", "fe80::1", "0.0.0.0"} {
		if _, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "marked", Access: "read", Config: map[string]any{"host": host}}); err == nil {
			t.Errorf("host %s was accepted", host)
		}
	}
	if _, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "marked", Access: "read", Config: map[string]any{"host": "db.example.com"}}); err != nil {
		t.Errorf("a host name was refused: %v", err)
	}
}

// TestTightenedPolicyKeepsStoredObjects: an object stored before the
// egress block was tightened still loads (its plugin refuses it when it
// opens the file), and does not block changes to other objects; changing
// it is refused.
func TestTightenedPolicyKeepsStoredObjects(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	root := filepath.Join(f.dir, "roots")
	cat, _ := f.openTesting(t, "egress {\n  file_roots = [\""+root+"\"]\n}\n", nil)
	if _, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "file", Access: "read", Config: map[string]any{"path": filepath.Join(root, "x.db")}}); err != nil {
		t.Fatal(err)
	}
	cat, _ = f.openTesting(t, "egress {\n  file_roots = [\""+filepath.Join(f.dir, "elsewhere")+"\"]\n}\n", nil)
	if _, err := cat.PutPolicy(ctx, PolicyInput{Key: "other", Name: "Other"}); err != nil {
		t.Errorf("an unrelated change was refused: %v", err)
	}
	if _, err := cat.PutConnection(ctx, ConnectionInput{Key: "api", ConnectionType: "file", Access: "read", Config: map[string]any{"path": filepath.Join(root, "y.db")}}); err == nil {
		t.Error("a change to the object outside the new roots was accepted")
	}
}
