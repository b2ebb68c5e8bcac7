package e2e

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// walkthrough is one ```sh block of configs/README.md, named after the
// **dir/** paragraph it belongs to.
type walkthrough struct{ name, script string }

var (
	shBlock    = regexp.MustCompile("(?s)```sh\n(.*?)```")
	paragraphs = regexp.MustCompile(`(?m)^\*\*([a-z0-9]+)/\*\*|^## (.+)$`)
)

// walkthroughs returns the shell blocks of configs/README.md in order,
// each named after the example paragraph or the section it is in.
func walkthroughs(t *testing.T) []walkthrough {
	t.Helper()
	b, err := os.ReadFile(root + "/configs/README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	heads := paragraphs.FindAllStringSubmatchIndex(text, -1)
	var out []walkthrough
	for _, m := range shBlock.FindAllStringSubmatchIndex(text, -1) {
		name := ""
		for _, h := range heads {
			if h[0] > m[0] {
				break
			}
			if h[2] >= 0 {
				name = text[h[2]:h[3]]
			} else {
				name = text[h[4]:h[5]]
			}
		}
		out = append(out, walkthrough{name: name, script: text[m[2]:m[3]]})
	}
	return out
}

// TestConfigWalkthroughs runs the commands of configs/README.md as they
// are written, in the order the README gives them, from the repository's
// root after the quick start (which erases jane@example.com): each must
// end with what its text describes. Only the MongoDB address is adapted to
// the test server's. These runs use the repository's own bin/ and data/
// directories, as a reader would; they reload what they change.
func TestConfigWalkthroughs(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("the walkthroughs run make: %v", err)
	}
	all := walkthroughs(t)
	var names []string
	for _, w := range all {
		names = append(names, w.name)
	}
	// A new walkthrough needs a check here; the import command names a
	// placeholder file and is covered by core/importer's tests.
	if want := []string{"mongodb", "s3", "Converting Fidesops datasets"}; !slices.Equal(names, want) {
		t.Fatalf("configs/README.md has shell blocks %q, this test checks %q: add a check for the new one", names, want)
	}
	// The state `make quickstart` leaves: jane erased from the SQLite file.
	qs := exec.Command("bash", "-c", "make build >/dev/null && scripts/quickstart.sh")
	qs.Dir = root
	if out, err := qs.CombinedOutput(); err != nil {
		t.Fatalf("make quickstart: %v\n%s", err, out)
	}

	t.Run("mongodb", func(t *testing.T) {
		newMongo(t, root+"/configs/mongodb/sample-data.json") // fails when the server is missing
		script := strings.Replace(all[0].script, "export LETHE_MONGO_URI=mongodb://127.0.0.1:27017",
			"export LETHE_MONGO_URI="+mongoServer(), 1)
		if script == all[0].script && mongoServer() != "mongodb://127.0.0.1:27017/" {
			t.Fatal("the mongodb walkthrough no longer exports LETHE_MONGO_URI=mongodb://127.0.0.1:27017: update this test")
		}
		out := runWalkthrough(t, script)
		if n := strings.Count(out, "Status: complete"); n != 2 {
			t.Fatalf("want 2 complete requests (access, erasure), got %d:\n%s", n, out)
		}
		// One row from each of the six collections, as the text says.
		for _, c := range []string{"customers", "customer_details", "profiles", "feedback", "conversations", "loyalty_accounts"} {
			if !regexp.MustCompile(`(?m)^access\s+crm\.` + c + `\s+[1-9]\d* rows?\b`).MatchString(out) {
				t.Errorf("the access summary shows no rows of %s:\n%s", c, out)
			}
		}
	})

	t.Run("s3", func(t *testing.T) {
		if os.Getenv("LETHE_TEST_S3_ENDPOINT") == "" && os.Getenv("CI") == "true" {
			t.Fatal("MinIO is not running (make test starts it)")
		}
		out := runWalkthrough(t, all[1].script)
		if !strings.Contains(out, "Status: complete") {
			t.Fatalf("the S3 walkthrough did not complete:\n%s", out)
		}
		m := regexp.MustCompile(`(?m)^Package: (http\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no presigned package URL in the output:\n%s", out)
		}
		c := &http.Client{Timeout: 30 * time.Second}
		resp, err := c.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET the presigned package: %d %v", resp.StatusCode, err)
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatalf("the package is not a zip: %v", err)
		}
		found := false
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if f.Name == "shop.customers.csv" && bytes.Contains(b, []byte("jane@example.com")) {
				found = true
			}
		}
		if !found {
			t.Fatalf("the package holds no customers row of jane@example.com: files %v", zr.File)
		}
	})
}

// runWalkthrough runs script with bash from the repository's root and
// returns what it printed; a failing command fails the test.
func runWalkthrough(t *testing.T, script string) string {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n--- script\n%s--- output\n%s", err, script, out)
	}
	return string(out)
}
