package cloud

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// reportField finds the "Key: value" fields of a Lambda REPORT line. The
// alternation lists the multi-word keys that end in "Duration" so that the
// leftmost match wins: "Billed Duration: 16" is read as Billed Duration, not
// as a second Duration. Lines copied out of a console lose their tabs, so the
// fields are found by name rather than by splitting on tabs.
var reportField = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(RequestId|Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used|Memory Size|Duration|Status): ([^\s]+)`)
})

// ParseReport reads a Lambda text REPORT line:
//
//	REPORT RequestId: ID\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 5.67 ms
//
// (with an optional "\tStatus: timeout" and X-Ray fields, which are ignored).
// ok is false when the line is not a REPORT line or lacks RequestId or Duration.
// The local target's shim writes the same format, so this serves every provider.
func ParseReport(line string) (Report, bool) {
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, "REPORT ") {
		return Report{}, false
	}
	var r Report
	var haveID, haveDuration bool
	for _, m := range reportField().FindAllStringSubmatch(s, -1) {
		key, val := m[1], m[2]
		switch key {
		case "RequestId":
			r.RequestID, haveID = val, true
		case "Duration":
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return Report{}, false
			}
			r.DurationMS, haveDuration = f, true
		case "Billed Duration":
			r.BilledMS, _ = strconv.ParseFloat(val, 64)
		case "Init Duration":
			r.InitMS, _ = strconv.ParseFloat(val, 64)
		case "Memory Size":
			r.MemoryMB, _ = strconv.Atoi(val)
		case "Max Memory Used":
			r.MaxMemoryMB, _ = strconv.Atoi(val)
		case "Status":
			r.Status = val
		}
	}
	if !haveID || !haveDuration {
		return Report{}, false
	}
	return r, true
}

// platformReport is the JSON record Lambda writes instead of a REPORT line
// when the function uses the JSON log format.
type platformReport struct {
	Type   string `json:"type"`
	Record struct {
		RequestID string `json:"requestId"`
		Status    string `json:"status"`
		Metrics   struct {
			DurationMS       *float64 `json:"durationMs"`
			BilledDurationMS float64  `json:"billedDurationMs"`
			MemorySizeMB     int      `json:"memorySizeMB"`
			MaxMemoryUsedMB  int      `json:"maxMemoryUsedMB"`
			InitDurationMS   float64  `json:"initDurationMs"`
		} `json:"metrics"`
	} `json:"record"`
}

// ParsePlatformReport reads a JSON-format "platform.report" log record:
//
//	{"time":"…","type":"platform.report","record":{"requestId":"…","metrics":{"durationMs":1.2,…},"status":"timeout"}}
//
// A "success" status is left out of Report.Status so a JSON report and the
// equivalent text REPORT line parse to the same value.
func ParsePlatformReport(jsonLine []byte) (Report, bool) {
	var p platformReport
	if err := json.Unmarshal(jsonLine, &p); err != nil {
		return Report{}, false
	}
	if p.Type != "platform.report" || p.Record.RequestID == "" || p.Record.Metrics.DurationMS == nil {
		return Report{}, false
	}
	m := p.Record.Metrics
	r := Report{
		RequestID:   p.Record.RequestID,
		DurationMS:  *m.DurationMS,
		BilledMS:    m.BilledDurationMS,
		InitMS:      m.InitDurationMS,
		MemoryMB:    m.MemorySizeMB,
		MaxMemoryMB: m.MaxMemoryUsedMB,
	}
	if p.Record.Status != "success" {
		r.Status = p.Record.Status
	}
	return r, true
}
