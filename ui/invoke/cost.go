package invoke

import (
	"strings"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/pricing"
	"github.com/fndeck/fndeck/internal/sanitize"
)

// costParts are the result's cost line: "≈ $0.00000103 (estimate)",
// "$1.03 per million", what it rests on; or why there is no figure.
func costParts(r cloud.InvokeResult) []string {
	if r.CostUSD != nil && r.CostPerMillionUSD != nil {
		parts := []string{"≈ " + pricing.FormatUSD(*r.CostUSD) + " (estimate)", pricing.FormatUSD(*r.CostPerMillionUSD) + " per million"}
		// The note's clauses wrap one by one in a narrow pane.
		return append(parts, strings.Split(sanitize.Line(r.CostNote), "; ")...)
	}
	if r.CostNote != "" {
		return []string{"cost " + sanitize.Line(r.CostNote)}
	}
	return nil
}
