package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

// A target whose invoke failed is absent at every differing path, the
// others keep their positions, and differing status codes come first.
func TestCompareDifferencesAcrossFailures(t *testing.T) {
	results := []compareResult{
		{InvokeResult: cloud.InvokeResult{StatusCode: 200, Body: []byte(`{"n":1,"s":"x"}`)}},
		{Error: "invoking local:b: connection refused"},
		{InvokeResult: cloud.InvokeResult{StatusCode: 500, Body: []byte(`{"n":2,"s":"x"}`)}},
	}
	got, _ := json.Marshal(differences(results))
	want := `[{"path":"status_code","values":[200,null,500],"absent":[1]},{"path":"$.n","values":[1,null,2],"absent":[1]}]`
	if string(got) != want {
		t.Errorf("differences\n got %s\nwant %s", got, want)
	}
	if succeeded(results[1]) || succeeded(results[2]) || !succeeded(results[0]) {
		t.Error("succeeded: only the first result is a success")
	}
}

// Event-style and HTTP targets do not mix; the refusal names both and
// says what is allowed.
func TestCompareSameKind(t *testing.T) {
	lam := compareTarget{t: Target{Address: cloud.Address{Provider: cloud.AWS, Region: "us-east-1", Function: "f"}}, kind: kindEvent, desc: "a Lambda function"}
	loc := compareTarget{t: Target{Address: cloud.Address{Provider: cloud.Local, Function: "l"}}, kind: kindEvent, desc: "a local --as lambda function"}
	run := compareTarget{t: Target{Address: cloud.Address{Provider: cloud.Local, Function: "w"}}, kind: kindHTTP, desc: "a local --as cloudrun service"}
	if err := sameKind([]compareTarget{lam, loc}); err != nil {
		t.Errorf("two event-style targets: %v", err)
	}
	err := sameKind([]compareTarget{run, lam})
	if err == nil {
		t.Fatal("a Cloud Run-style and a Lambda target compared")
	}
	for _, part := range []string{"cannot compare " + lam.t.Address.String() + " (a Lambda function", run.t.Address.String() + " (a local --as cloudrun service", "not supported yet"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("refusal %q lacks %q", err, part)
		}
	}
}
