package wire

import (
	"encoding/json"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

// The helper pipe carries what lineage needs: the digest, the source and
// a describe error's lineage.
func TestFunctionCarriesLineageFields(t *testing.T) {
	in := cloud.Function{Name: "f", ImageDigest: "sha256:1", SourceRef: "r/app:1",
		Lineage: &cloud.Lineage{Status: cloud.LineageUnknown, Error: "describing f: throttled"}}
	b, _ := json.Marshal(FromFunction(in))
	var back Function
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got := back.ToFunction()
	if got.ImageDigest != "sha256:1" || got.SourceRef != "r/app:1" || got.Lineage == nil || *got.Lineage != *in.Lineage {
		t.Errorf("%s -> %+v", b, got)
	}
}
