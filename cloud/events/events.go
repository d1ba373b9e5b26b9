// Package events holds sample events for the common event sources, as
// data (templates/*.json, embedded): what a function receives from API
// Gateway, a function URL, S3, SQS, SNS, EventBridge, DynamoDB Streams,
// and, for Cloud Run, an HTTP body, a Pub/Sub push and a Cloud Storage
// CloudEvent. The invoke pane offers them ("like sam local generate-event,
// for both clouds"), filled with the target's names, to edit and send.
//
// The AWS samples follow the event shapes in the Lambda developer guide and
// decode into aws-lambda-go's events types with unknown fields disallowed
// (see the tests; aws-lambda-go is a test-only dependency here). The GCP
// samples follow:
//   - Pub/Sub push: the push request body documented at
//     cloud.google.com/pubsub/docs/push ({message: {data (base64),
//     attributes, messageId, publishTime}, subscription});
//   - Cloud Storage: a CloudEvents 1.0 structured-mode event
//     (github.com/cloudevents/spec, json-format.md) of type
//     google.cloud.storage.object.v1.finalized whose data is a
//     google.events.cloud.storage.v1.StorageObjectData, as Eventarc delivers
//     it (Eventarc uses binary mode: the same attributes as ce-* headers,
//     the data as the body).
package events

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fndeck/fndeck/cloud"
)

//go:embed templates/*.json
var files embed.FS

// Template is one sample event.
type Template struct {
	Name     string         // file name without .json: "s3-put"
	Title    string         // what the picker shows
	Provider cloud.Provider // the platform whose functions receive it
	// HTTP templates are request bodies for HTTP targets (Cloud Run, local
	// --as cloudrun); Headers are the request headers that go with them
	// (values without ';', which the invoke pane uses between headers).
	HTTP    bool
	Headers map[string]string
}

// All lists the templates in the order the picker shows them.
var All = []Template{
	{Name: "apigw-rest-proxy", Title: "API Gateway REST API proxy", Provider: cloud.AWS},
	{Name: "apigw-http-v2", Title: "API Gateway HTTP API proxy (v2)", Provider: cloud.AWS},
	{Name: "lambda-function-url", Title: "Lambda function URL", Provider: cloud.AWS},
	{Name: "s3-put", Title: "S3 object created (put)", Provider: cloud.AWS},
	{Name: "sqs", Title: "SQS message", Provider: cloud.AWS},
	{Name: "sns", Title: "SNS notification", Provider: cloud.AWS},
	{Name: "eventbridge", Title: "EventBridge event", Provider: cloud.AWS},
	{Name: "dynamodb-stream", Title: "DynamoDB stream record", Provider: cloud.AWS},
	{Name: "cloudrun-http", Title: "Cloud Run HTTP request body", Provider: cloud.GCP, HTTP: true,
		Headers: map[string]string{"Content-Type": "application/json"}},
	{Name: "pubsub-push", Title: "Pub/Sub push", Provider: cloud.GCP, HTTP: true,
		Headers: map[string]string{"Content-Type": "application/json"}},
	{Name: "storage-cloudevent", Title: "Cloud Storage object finalized (CloudEvent)", Provider: cloud.GCP, HTTP: true,
		Headers: map[string]string{"Content-Type": "application/cloudevents+json"}},
}

// Vars are the names a template is filled with; empty ones get example
// values ("my-function", "us-east-1", "123456789012", "my-project").
type Vars struct {
	Function string
	Region   string
	Account  string
	Project  string
}

// VarsFor takes what an address knows. A local target's samples are named
// after the function and Lambda's default region.
func VarsFor(a cloud.Address) Vars {
	return Vars{Function: a.Function, Region: a.Region, Project: a.Project}
}

func (v Vars) withDefaults() Vars {
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	return Vars{
		Function: def(v.Function, "my-function"),
		Region:   def(v.Region, "us-east-1"),
		Account:  def(v.Account, "123456789012"),
		Project:  def(v.Project, "my-project"),
	}
}

// Get returns a template by name.
func Get(name string) (Template, bool) {
	for _, t := range All {
		if t.Name == name {
			return t, true
		}
	}
	return Template{}, false
}

// Raw is the template's JSON with its ${FUNCTION}, ${REGION}, ${ACCOUNT}
// and ${PROJECT} placeholders.
func (t Template) Raw() ([]byte, error) {
	b, err := files.ReadFile("templates/" + t.Name + ".json")
	if err != nil {
		return nil, fmt.Errorf("event template %s: %w", t.Name, err)
	}
	return b, nil
}

// Fill returns the template's JSON with the placeholders replaced by v's
// values, JSON-escaped (the placeholders sit inside JSON strings).
func (t Template) Fill(v Vars) ([]byte, error) {
	raw, err := t.Raw()
	if err != nil {
		return nil, err
	}
	v = v.withDefaults()
	esc := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	}
	r := strings.NewReplacer(
		"${FUNCTION}", esc(v.Function),
		"${REGION}", esc(v.Region),
		"${ACCOUNT}", esc(v.Account),
		"${PROJECT}", esc(v.Project),
	)
	out := []byte(r.Replace(string(raw)))
	if !json.Valid(out) {
		return nil, fmt.Errorf("event template %s: not valid JSON once filled", t.Name)
	}
	return out, nil
}

// For returns the templates that suit a target: HTTP targets get the HTTP
// request bodies, event targets (Lambda, local --as lambda) the AWS events.
func For(isHTTP bool) []Template {
	var out []Template
	for _, t := range All {
		if t.HTTP == isHTTP {
			out = append(out, t)
		}
	}
	return out
}
