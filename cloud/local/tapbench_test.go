package local

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/fndeck/fndeck/cloud"
)

// BenchmarkFollowTapDecode is fndeck's side of a flood per line: decoding
// the tap's records into LogLines (what a follow costs before the UI).
//
//	go test ./cloud/local -run '^$' -bench FollowTapDecode -benchmem
func BenchmarkFollowTapDecode(b *testing.B) {
	var wire bytes.Buffer
	stamp := time.Now().UnixNano()
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&wire, "o%d flood seq=%d t=1764126000000000 payload=abcdefghijklmnopqrstuvwxyz\n", stamp, i)
	}
	data := wire.Bytes()
	toLine := func(t time.Time, stream, message string) cloud.LogLine {
		return cloud.LogLine{Time: t, Address: "local:fn", Stream: stream, Message: message}
	}
	for _, tc := range []struct {
		name string
		busy func() bool
	}{{"decode", nil}, {"consumer-full", func() bool { return true }}} {
		b.Run(tc.name, func(b *testing.B) {
			lines := 0
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				err := followTap(context.Background(), io.NopCloser(bytes.NewReader(data)), "", tc.busy, toLine, func(cloud.LogLine) {})
				if err != nil {
					b.Fatal(err)
				}
				lines += 10000
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
		})
	}
}
