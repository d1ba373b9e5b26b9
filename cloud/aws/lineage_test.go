package aws

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

// A function that cannot be described keeps its listed row, its lineage
// unknown with the reason; the listing itself does not fail.
func TestDescribeAllErrorMarksRowsNotTheListing(t *testing.T) {
	f := newFakeAWS(t)
	f.accounts["AK1"] = acctA
	f.env(t, "AK1")
	for i := range 3 {
		f.add(&fakeFn{Name: fmt.Sprintf("fn-%d", i), Account: acctA, Region: "eu-west-1", ImageURI: acctA + ".dkr.ecr.eu-west-1.amazonaws.com/app:1"})
	}
	f.mu.Lock()
	f.throttle["eu-west-1/GetFunction"] = -1
	f.mu.Unlock()
	b := New(Options{Regions: []string{"eu-west-1"}, DescribeAll: true})
	groups := collect(t, b, cloud.ListFilter{})
	if len(groups) != 1 || groups[0].Err != nil || len(groups[0].Functions) != 3 {
		t.Fatalf("groups = %+v", groups)
	}
	for _, fn := range groups[0].Functions {
		if l := fn.Lineage; l == nil || l.Status != cloud.LineageUnknown || !strings.Contains(l.Error, "describing "+fn.Name) {
			t.Errorf("%s: lineage %+v, want unknown with the describe error", fn.Name, l)
		}
	}
}
