package testsupport

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listedPackage is one line of `go list -deps` output (see listFormat).
type listedPackage struct {
	path     string
	isMain   bool // package main: a binary
	inModule bool // a package of this module (not the standard library, not a dependency)
	imports  []string
}

// listFormat prints one package per line: path, name, whether it belongs to
// the main module, then its non-test imports (Imports never holds the
// imports of _test.go files).
const listFormat = `{{.ImportPath}}|{{.Name}}|{{if .Module}}{{.Module.Main}}{{end}}|{{join .Imports " "}}`

func parseListing(t *testing.T, out []byte) []listedPackage {
	t.Helper()
	var pkgs []listedPackage
	for line := range strings.Lines(string(out)) {
		line = strings.TrimRight(line, "\n")
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 4 {
			t.Fatalf("go list printed %q, want path|name|main|imports", line)
		}
		pkgs = append(pkgs, listedPackage{path: f[0], isMain: f[1] == "main", inModule: f[2] == "true", imports: strings.Fields(f[3])})
	}
	return pkgs
}

// isTestOnly tells the packages product code must not import: the standard
// library's testing packages and this module's test support.
func isTestOnly(module, path string) bool {
	return path == "testing" || strings.HasPrefix(path, "testing/") ||
		path == module+"/internal/testsupport" || strings.HasPrefix(path, module+"/internal/testsupport/")
}

// violations returns, for every product package of module (one not under
// internal/testsupport), each test-only package it imports, and for every
// binary (package main) each test-only package it links through anything,
// dependencies included.
func violations(module string, pkgs []listedPackage) []string {
	byPath := make(map[string]listedPackage, len(pkgs))
	for _, p := range pkgs {
		byPath[p.path] = p
	}
	var bad []string
	for _, p := range pkgs {
		if !p.inModule || isTestOnly(module, p.path) {
			continue
		}
		for _, imp := range p.imports {
			if isTestOnly(module, imp) {
				bad = append(bad, p.path+" imports "+imp)
			}
		}
		if !p.isMain {
			continue
		}
		// Everything the binary links: a test-only package reached through a
		// dependency (a library importing testing) counts too.
		seen := map[string]bool{p.path: true}
		queue := []string{p.path}
		for len(queue) > 0 {
			cur := byPath[queue[0]]
			queue = queue[1:]
			for _, imp := range cur.imports {
				if seen[imp] {
					continue
				}
				seen[imp] = true
				if isTestOnly(module, imp) {
					bad = append(bad, "binary "+p.path+" links "+imp+" (through "+cur.path+")")
				}
				queue = append(queue, imp)
			}
		}
	}
	slices.Sort(bad)
	return slices.Compact(bad)
}

// TestNoProductPackageImportsTestSupport keeps the fakes and `testing` out
// of the product: no non-test file of a package outside internal/testsupport
// imports `testing` or a test-support package, and no binary links one.
func TestNoProductPackageImportsTestSupport(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	modOut, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	module := strings.TrimSpace(string(modOut))

	cmd := exec.Command("go", "list", "-deps", "-test=false", "-f", listFormat, "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list in %s: %v\n%s", root, err, stderr.String())
	}
	pkgs := parseListing(t, out)

	// The listing must see what it judges, or the check below proves nothing:
	// the test-support packages themselves import testing, and product
	// packages and binaries are in it.
	var sawSupportTesting, sawProduct, sawBinary bool
	for _, p := range pkgs {
		switch {
		case p.path == module+"/internal/testsupport/cloudtest":
			sawSupportTesting = slices.Contains(p.imports, "testing")
		case p.inModule && p.isMain:
			sawBinary = true
		case p.path == module+"/cloud":
			sawProduct = true
		}
	}
	if !sawSupportTesting || !sawProduct || !sawBinary {
		t.Fatalf("go list output lacks what the check needs (cloudtest importing testing: %v, package cloud: %v, a binary: %v):\n%s",
			sawSupportTesting, sawProduct, sawBinary, out)
	}

	if bad := violations(module, pkgs); len(bad) > 0 {
		t.Errorf("product code imports test-only packages; move the code that needs them into a _test.go file or under internal/testsupport:\n  %s",
			strings.Join(bad, "\n  "))
	}
}

// TestViolationsNamesEachOffender proves the check fails: a listing with a
// product package importing testing, another importing a fake, and a binary
// linking testing through a dependency names all three and nothing else.
func TestViolationsNamesEachOffender(t *testing.T) {
	const m = "example.com/m"
	pkgs := []listedPackage{
		{path: "testing"},
		{path: "testing/fstest", imports: []string{"testing"}},
		{path: "dep.example/lib", imports: []string{"testing/fstest"}},
		{path: m + "/internal/testsupport/fake", inModule: true, imports: []string{"testing", m + "/cloud"}},
		{path: m + "/cloud", inModule: true, imports: []string{"testing"}},
		{path: m + "/ui", inModule: true, imports: []string{m + "/internal/testsupport/fake", m + "/cloud"}},
		{path: m + "/internal/sanitize", inModule: true, imports: []string{"strings"}},
		{path: m + "/tool", inModule: true, isMain: true, imports: []string{"dep.example/lib", m + "/internal/sanitize"}},
	}
	got := violations(m, pkgs)
	want := []string{
		"binary example.com/m/tool links testing (through testing/fstest)",
		"binary example.com/m/tool links testing/fstest (through dep.example/lib)",
		"example.com/m/cloud imports testing",
		"example.com/m/ui imports example.com/m/internal/testsupport/fake",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n got %q\nwant %q", got, want)
	}
}
