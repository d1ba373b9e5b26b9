package shim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestAWSSDKInvoke is what `aws lambda invoke --endpoint-url` does: the
// real Lambda client, pointed at the shim, by function name.
func TestAWSSDKInvoke(t *testing.T) {
	hello := buildHello(t)
	_, addrs := startShim(t, Config{Command: []string{hello}, Function: "hello", MemoryMB: 256})
	base := strings.SplitN(addrs, "|", 2)[1]
	c := lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(base),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("hello"), Payload: []byte(`{"name":"sdk"}`)})
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if out.StatusCode != 200 || out.FunctionError != nil || string(out.Payload) != `{"greeting":"hello sdk"}` || aws.ToString(out.ExecutedVersion) != "$LATEST" {
		t.Errorf("result: %d %v %s %v", out.StatusCode, out.FunctionError, out.Payload, out.ExecutedVersion)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("hello"), Payload: []byte(`{"name":"fail"}`)})
	if err != nil {
		t.Fatalf("invoke fail: %v", err)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "name must not be fail") {
		t.Errorf("function error: %v %s", out.FunctionError, out.Payload)
	}
	ev, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("hello"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"name":"async"}`)})
	if err != nil || ev.StatusCode != 202 {
		t.Errorf("Event invoke: %v %+v", err, ev)
	}
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("other"), Payload: []byte(`{}`)}); err == nil {
		t.Error("another function's name was accepted")
	}
}
