package actions

import (
	"context"
	"testing"

	"github.com/fndeck/fndeck/cloud"
)

func TestInvokeHistoryKeepsTheCost(t *testing.T) {
	s := NewInvokeStore(t.TempDir(), nil)
	addr := cloud.Address{Provider: cloud.AWS, Region: "eu-west-1", Function: "f"}
	usd, perM := 0.0000010333, 1.0333
	res := cloud.InvokeResult{StatusCode: 200, Report: &cloud.Report{BilledMS: 100, MemoryMB: 512}, CostUSD: &usd, CostPerMillionUSD: &perM}
	if err := s.Append(context.Background(), addr, []byte(`{}`), res, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), addr, []byte(`{}`), cloud.InvokeResult{StatusCode: 200, CostNote: "not estimated"}, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Recent(context.Background(), addr)
	if err != nil || len(recs) != 2 {
		t.Fatalf("recent: %v %v", recs, err)
	}
	var with, without *InvokeRecord
	for i := range recs {
		if recs[i].CostUSD != nil {
			with = &recs[i]
		} else {
			without = &recs[i]
		}
	}
	if with == nil || *with.CostUSD != usd || with.CostPerMillionUSD == nil || *with.CostPerMillionUSD != perM {
		t.Errorf("the estimated invoke's record: %+v", with)
	}
	if without == nil || without.CostPerMillionUSD != nil {
		t.Errorf("the unestimated invoke's record: %+v", without)
	}
}
