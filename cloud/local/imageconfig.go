package local

import (
	"encoding/json"

	"github.com/fndeck/fndeck/cloud"
)

// applyImageConfig lays a deploy's image config over the image's own
// ENTRYPOINT, CMD and WORKDIR, field by field as Lambda's ImageConfig does,
// and records it on the container so that a rollback keeps it.
func applyImageConfig(sp *containerSpec, ic *cloud.ImageConfig) {
	if ic.IsZero() {
		return
	}
	if len(ic.Entrypoint) > 0 {
		sp.entrypoint = append([]string(nil), ic.Entrypoint...)
	}
	if len(ic.Command) > 0 {
		sp.cmd = append([]string(nil), ic.Command...)
	}
	sp.workdir = ic.Workdir
	if b, err := json.Marshal(ic); err == nil {
		sp.labels[LabelImageConfig] = string(b)
	}
}

// imageConfigLabel reads LabelImageConfig back; nil when absent or unreadable.
func imageConfigLabel(s string) *cloud.ImageConfig {
	if s == "" {
		return nil
	}
	var ic cloud.ImageConfig
	if json.Unmarshal([]byte(s), &ic) != nil || ic.IsZero() {
		return nil
	}
	return &ic
}
