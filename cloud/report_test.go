package cloud

import "testing"

func TestParseReport(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Report
		ok   bool
	}{
		{
			name: "cold start",
			line: "REPORT RequestId: 8f507cfc-example-4697-b07a-ac58fc914c95\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\tInit Duration: 86.50 ms\t\n",
			want: Report{RequestID: "8f507cfc-example-4697-b07a-ac58fc914c95", DurationMS: 15.74, BilledMS: 16, MemoryMB: 128, MaxMemoryMB: 36, InitMS: 86.5},
			ok:   true,
		},
		{
			name: "warm with xray",
			line: "REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 12.34 ms\tBilled Duration: 100 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t\nXRAY TraceId: 1-5e8f7f5c-1c2e4b7a3b0f2c1d8e9f0a1b\tSegmentId: 2b3c4d5e6f7a8b9c\tSampled: true",
			want: Report{RequestID: "3604209a-e9a3-11e6-939a-754dd98c7be3", DurationMS: 12.34, BilledMS: 100, MemoryMB: 128, MaxMemoryMB: 18},
			ok:   true,
		},
		{
			name: "timeout status",
			line: "REPORT RequestId: b1c2\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 1024 MB\tMax Memory Used: 54 MB\tStatus: timeout",
			want: Report{RequestID: "b1c2", DurationMS: 3000, BilledMS: 3000, MemoryMB: 1024, MaxMemoryMB: 54, Status: "timeout"},
			ok:   true,
		},
		{
			name: "tabs lost in copy",
			line: "REPORT RequestId: abc Duration: 1.23 ms Billed Duration: 2 ms Memory Size: 128 MB Max Memory Used: 20 MB Init Duration: 5.67 ms",
			want: Report{RequestID: "abc", DurationMS: 1.23, BilledMS: 2, MemoryMB: 128, MaxMemoryMB: 20, InitMS: 5.67},
			ok:   true,
		},
		{name: "start line", line: "START RequestId: abc Version: $LATEST", ok: false},
		{name: "end line", line: "END RequestId: abc", ok: false},
		{name: "user text mentioning report", line: "my REPORT RequestId: abc Duration: 1 ms", ok: false},
		{name: "no duration", line: "REPORT RequestId: abc", ok: false},
		{name: "bad duration", line: "REPORT RequestId: abc\tDuration: x ms", ok: false},
		{name: "empty", line: "", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseReport(tt.line)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (got %+v)", ok, tt.ok, got)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParsePlatformReport(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Report
		ok   bool
	}{
		{
			name: "cold success",
			line: `{"time":"2024-05-01T12:00:00.000Z","type":"platform.report","record":{"requestId":"6d68ca91-49c9-448d-89b8-7ca3e6dc66aa","metrics":{"durationMs":2.45,"billedDurationMs":3,"memorySizeMB":128,"maxMemoryUsedMB":68,"initDurationMs":248.91},"status":"success"}}`,
			want: Report{RequestID: "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa", DurationMS: 2.45, BilledMS: 3, MemoryMB: 128, MaxMemoryMB: 68, InitMS: 248.91},
			ok:   true,
		},
		{
			name: "timeout",
			line: `{"time":"2024-05-01T12:00:03.000Z","type":"platform.report","record":{"requestId":"r2","metrics":{"durationMs":3000.0,"billedDurationMs":3000,"memorySizeMB":256,"maxMemoryUsedMB":40},"status":"timeout"}}`,
			want: Report{RequestID: "r2", DurationMS: 3000, BilledMS: 3000, MemoryMB: 256, MaxMemoryMB: 40, Status: "timeout"},
			ok:   true,
		},
		{name: "platform.start", line: `{"time":"2024-05-01T12:00:00.000Z","type":"platform.start","record":{"requestId":"r","version":"$LATEST"}}`, ok: false},
		{name: "no metrics", line: `{"type":"platform.report","record":{"requestId":"r"}}`, ok: false},
		{name: "app log", line: `{"timestamp":"2024-05-01T12:00:00Z","level":"INFO","message":"hi"}`, ok: false},
		{name: "not json", line: `REPORT RequestId: r`, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParsePlatformReport([]byte(tt.line))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (got %+v)", ok, tt.ok, got)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
