package config

import (
	"path/filepath"
	"testing"
)

// Framework files are read at start-up, before the first frame: reading
// the serverless.yml and SAM fixtures (variables, intrinsics, samconfig,
// Dockerfile checks) must stay a small share of the 50 ms budget.
func BenchmarkLoadServerless(b *testing.B) {
	benchLoad(b, filepath.Join("testdata", "frameworks", "serverless"))
}

func BenchmarkLoadSAM(b *testing.B) {
	benchLoad(b, filepath.Join("testdata", "frameworks", "sam"))
}

func benchLoad(b *testing.B, dir string) {
	b.ReportAllocs()
	for b.Loop() {
		p, err := LoadProjectWith(dir, ProjectOptions{Stage: "prod"})
		if err != nil || p == nil || len(p.Functions) == 0 {
			b.Fatalf("load: %v", err)
		}
	}
}
