package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/fndeck/fndeck/internal/testsupport/cloudtest"
)

// Issue 13: `fndeck logs TARGET` without --since prints the last events
// whatever their age (here 20–30 minutes old, outside the old 15-minute
// window); a function that never ran says so on stderr and exits 0.
func TestAWSLogsWithoutSincePrintsTheLastEvents(t *testing.T) {
	m := cloudtest.StartMoto(t)
	seedAWS(t, m.Endpoint, []string{"us-east-1"})
	logs := cloudwatchlogs.NewFromConfig(motoConfig(t, m.Endpoint))
	group, stream := "/aws/lambda/api-use1", "2026/11/26/[$LATEST]e2e"
	ctx := context.Background()
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: &group, LogStreamName: &stream}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-30 * time.Minute)
	var want []string
	var evs []logtypes.InputLogEvent
	for i := range 4 {
		msg := fmt.Sprintf("event %d from %d minutes ago", i, 30-3*i)
		want = append(want, msg)
		evs = append(evs, logtypes.InputLogEvent{Message: sdkaws.String(msg), Timestamp: sdkaws.Int64(base.Add(time.Duration(3*i) * time.Minute).UnixMilli())})
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: &group, LogStreamName: &stream, LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	env := isolatedEnv(t, append(awsEnv(m), "FNDECK_AWS_REGIONS=us-east-1")...)

	out, errOut, code := runCLI(t, env, "", "logs", "lambda:us-east-1/api-use1")
	if code != 0 {
		t.Fatalf("logs exited %d; stderr: %s", code, errOut)
	}
	checkLogLines(t, out, want)

	out, errOut, code = runCLI(t, env, "", "logs", "lambda:us-east-1/api-use1", "--tail", "2")
	if code != 0 {
		t.Fatalf("logs --tail 2 exited %d; stderr: %s", code, errOut)
	}
	checkLogLines(t, out, want[2:])

	// cron-use1 was never invoked: it has no log group.
	out, errOut, code = runCLI(t, env, "", "logs", "lambda:us-east-1/cron-use1")
	if code != 0 || out != "" || !strings.HasPrefix(errOut, "no log events for lambda:us-east-1/cron-use1") {
		t.Errorf("logs of a function that never ran: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
