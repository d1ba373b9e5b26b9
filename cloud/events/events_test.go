package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/fndeck/fndeck/cloud"
)

var vars = Vars{Function: "thumbnailer", Region: "eu-west-1", Account: "210987654321", Project: "acme-web"}

// strict decodes b into v with unknown fields disallowed and no trailing data.
func strict(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("strict decode into %T: %v", v, err)
	}
	if dec.More() {
		t.Fatalf("trailing data after the event")
	}
}

// roundTrip decodes b into a fresh T, encodes it, decodes that again and
// requires the same value, and that every value of the template survived
// the encode (times compared as instants).
func roundTrip[T any](t *testing.T, b []byte) T {
	t.Helper()
	var first T
	strict(t, b, &first)
	enc, err := json.Marshal(first)
	if err != nil {
		t.Fatalf("encode %T: %v", first, err)
	}
	var second T
	strict(t, enc, &second)
	if !reflect.DeepEqual(first, second) {
		t.Errorf("%T changed across decode/encode/decode:\n%+v\n%+v", first, first, second)
	}
	var orig, again any
	_ = json.Unmarshal(b, &orig)
	_ = json.Unmarshal(enc, &again)
	subset(t, "$", orig, again)
	return first
}

// subset requires every leaf of want to be in got with the same value.
func subset(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: lost (got %v)", path, got)
			return
		}
		for k, v := range w {
			if v == nil {
				continue // null and absent mean the same
			}
			subset(t, path+"."+k, v, g[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: lost (got %v)", path, got)
			return
		}
		for i := range w {
			subset(t, path+"["+string(rune('0'+i))+"]", w[i], g[i])
		}
	case string:
		if gs, ok := got.(string); ok && gs != w {
			t1, e1 := time.Parse(time.RFC3339Nano, w)
			t2, e2 := time.Parse(time.RFC3339Nano, gs)
			if e1 == nil && e2 == nil && t1.Equal(t2) {
				return
			}
		}
		if got != want {
			t.Errorf("%s: %v became %v", path, want, got)
		}
	case bool:
		if !w && got == nil {
			return // an omitempty false
		}
		if got != want {
			t.Errorf("%s: %v became %v", path, want, got)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: %v became %v", path, want, got)
		}
	}
}

func fill(t *testing.T, name string) []byte {
	t.Helper()
	tpl, ok := Get(name)
	if !ok {
		t.Fatalf("no template %s", name)
	}
	b, err := tpl.Fill(vars)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("${")) {
		t.Fatalf("%s keeps a placeholder: %s", name, b)
	}
	return b
}

func TestAWSTemplates(t *testing.T) {
	checks := map[string]func(t *testing.T, b []byte){
		"apigw-rest-proxy": func(t *testing.T, b []byte) {
			e := roundTrip[lambdaevents.APIGatewayProxyRequest](t, b)
			rc := e.RequestContext
			if e.HTTPMethod == "" || e.Path == "" || e.Resource == "" || rc.RequestID == "" || rc.Stage == "" || rc.APIID == "" ||
				rc.AccountID != vars.Account || !strings.Contains(rc.DomainName, vars.Region) || rc.Identity.SourceIP == "" {
				t.Errorf("REST proxy event lacks required fields: %+v", e)
			}
		},
		"apigw-http-v2": func(t *testing.T, b []byte) {
			e := roundTrip[lambdaevents.APIGatewayV2HTTPRequest](t, b)
			rc := e.RequestContext
			if e.Version != "2.0" || e.RouteKey == "" || e.RawPath == "" || rc.HTTP.Method == "" || rc.HTTP.Path == "" || rc.RequestID == "" ||
				rc.Stage == "" || rc.AccountID != vars.Account || rc.TimeEpoch == 0 {
				t.Errorf("HTTP API v2 event lacks required fields: %+v", e)
			}
		},
		"lambda-function-url": func(t *testing.T, b []byte) {
			e := roundTrip[lambdaevents.LambdaFunctionURLRequest](t, b)
			rc := e.RequestContext
			if e.Version != "2.0" || e.RawPath == "" || rc.HTTP.Method == "" || rc.RequestID == "" ||
				rc.DomainName != rc.APIID+".lambda-url."+vars.Region+".on.aws" || rc.TimeEpoch == 0 {
				t.Errorf("function URL event lacks required fields: %+v", e)
			}
		},
		"s3-put": func(t *testing.T, b []byte) {
			e := roundTrip[lambdaevents.S3Event](t, b)
			if len(e.Records) != 1 {
				t.Fatalf("records: %d", len(e.Records))
			}
			r := e.Records[0]
			if r.EventSource != "aws:s3" || r.EventName != "ObjectCreated:Put" || r.AWSRegion != vars.Region || r.EventTime.IsZero() ||
				r.S3.Bucket.Name == "" || r.S3.Bucket.Arn != "arn:aws:s3:::"+r.S3.Bucket.Name || r.S3.Object.Key == "" || r.S3.Object.Size == 0 {
				t.Errorf("S3 put record lacks required fields: %+v", r)
			}
		},
		"sqs": func(t *testing.T, b []byte) {
			e := roundTrip[lambdaevents.SQSEvent](t, b)
			if len(e.Records) != 1 {
				t.Fatalf("records: %d", len(e.Records))
			}
			r := e.Records[0]
			if r.MessageId == "" || r.ReceiptHandle == "" || r.Body == "" || r.EventSource != "aws:sqs" || r.AWSRegion != vars.Region ||
				r.EventSourceARN != "arn:aws:sqs:eu-west-1:210987654321:thumbnailer-queue" || r.Attributes["ApproximateReceiveCount"] == "" {
				t.Errorf("SQS record lacks required fields: %+v", r)
			}
		},
		"sns": func(t *testing.T, b []byte) {
			e := roundTrip[lambdaevents.SNSEvent](t, b)
			if len(e.Records) != 1 {
				t.Fatalf("records: %d", len(e.Records))
			}
			r := e.Records[0]
			if r.EventSource != "aws:sns" || r.SNS.Type != "Notification" || r.SNS.Message == "" || r.SNS.MessageID == "" || r.SNS.Timestamp.IsZero() ||
				r.SNS.TopicArn != "arn:aws:sns:eu-west-1:210987654321:thumbnailer-topic" || !strings.HasPrefix(r.EventSubscriptionArn, r.SNS.TopicArn+":") {
				t.Errorf("SNS record lacks required fields: %+v", r)
			}
		},
		"eventbridge": func(t *testing.T, b []byte) {
			e := roundTrip[lambdaevents.EventBridgeEvent](t, b)
			var detail map[string]any
			if e.Version == "" || e.ID == "" || e.DetailType == "" || e.Source == "" || e.AccountID != vars.Account || e.Region != vars.Region ||
				e.Time.IsZero() || json.Unmarshal(e.Detail, &detail) != nil || len(detail) == 0 {
				t.Errorf("EventBridge event lacks required fields: %+v", e)
			}
		},
		"dynamodb-stream": func(t *testing.T, b []byte) {
			e := roundTrip[lambdaevents.DynamoDBEvent](t, b)
			if len(e.Records) != 1 {
				t.Fatalf("records: %d", len(e.Records))
			}
			r := e.Records[0]
			c := r.Change
			if r.EventID == "" || r.EventName != "INSERT" || r.EventSource != "aws:dynamodb" || r.AWSRegion != vars.Region ||
				!strings.HasPrefix(r.EventSourceArn, "arn:aws:dynamodb:eu-west-1:210987654321:table/") ||
				len(c.Keys) == 0 || c.Keys["Id"].Number() != "101" || c.NewImage["Message"].String() != "New item!" || c.SequenceNumber == "" || c.StreamViewType == "" {
				t.Errorf("DynamoDB record lacks required fields: %+v", r)
			}
		},
	}
	seen := 0
	for _, tpl := range All {
		if tpl.Provider != cloud.AWS {
			continue
		}
		seen++
		check, ok := checks[tpl.Name]
		if !ok {
			t.Errorf("no check for AWS template %s", tpl.Name)
			continue
		}
		t.Run(tpl.Name, func(t *testing.T) { check(t, fill(t, tpl.Name)) })
	}
	if seen != len(checks) {
		t.Errorf("%d AWS templates, %d checks", seen, len(checks))
	}
}

// pubsubPush is the Pub/Sub push request body (cloud.google.com/pubsub/docs/push).
type pubsubPush struct {
	Message struct {
		Attributes      map[string]string `json:"attributes"`
		Data            string            `json:"data"`
		MessageID       string            `json:"messageId"`
		MessageIDSnake  string            `json:"message_id"`
		PublishTime     time.Time         `json:"publishTime"`
		PublishTimeSnak time.Time         `json:"publish_time"`
	} `json:"message"`
	Subscription    string `json:"subscription"`
	DeliveryAttempt int    `json:"deliveryAttempt,omitempty"`
}

// cloudEvent is a CloudEvents 1.0 event in structured JSON mode
// (github.com/cloudevents/spec: spec.md, json-format.md).
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	DataSchema      string          `json:"dataschema"`
	Data            json.RawMessage `json:"data"`
}

// storageObjectData is google.events.cloud.storage.v1.StorageObjectData's
// fields this sample uses (int64 fields are JSON strings, as proto3 JSON).
type storageObjectData struct {
	Kind                    string    `json:"kind"`
	ID                      string    `json:"id"`
	SelfLink                string    `json:"selfLink"`
	Name                    string    `json:"name"`
	Bucket                  string    `json:"bucket"`
	Generation              string    `json:"generation"`
	Metageneration          string    `json:"metageneration"`
	ContentType             string    `json:"contentType"`
	TimeCreated             time.Time `json:"timeCreated"`
	Updated                 time.Time `json:"updated"`
	StorageClass            string    `json:"storageClass"`
	TimeStorageClassUpdated time.Time `json:"timeStorageClassUpdated"`
	Size                    string    `json:"size"`
	MD5Hash                 string    `json:"md5Hash"`
	CRC32C                  string    `json:"crc32c"`
	ETag                    string    `json:"etag"`
}

func TestGCPTemplates(t *testing.T) {
	t.Run("pubsub-push", func(t *testing.T) {
		var p pubsubPush
		strict(t, fill(t, "pubsub-push"), &p)
		data, err := base64.StdEncoding.DecodeString(p.Message.Data)
		if err != nil || !json.Valid(data) {
			t.Errorf("message.data is not base64 of JSON: %q (%v)", p.Message.Data, err)
		}
		if !regexp.MustCompile(`^projects/acme-web/subscriptions/[a-zA-Z][\w.~+%-]{2,254}$`).MatchString(p.Subscription) ||
			p.Message.MessageID == "" || p.Message.MessageID != p.Message.MessageIDSnake || p.Message.PublishTime.IsZero() || !p.Message.PublishTime.Equal(p.Message.PublishTimeSnak) {
			t.Errorf("push body: %+v", p)
		}
	})
	t.Run("storage-cloudevent", func(t *testing.T) {
		var ce cloudEvent
		strict(t, fill(t, "storage-cloudevent"), &ce)
		var d storageObjectData
		strict(t, ce.Data, &d)
		if ce.SpecVersion != "1.0" || ce.ID == "" || ce.Type != "google.cloud.storage.object.v1.finalized" || ce.Time.IsZero() || ce.DataContentType != "application/json" {
			t.Errorf("CloudEvent attributes: %+v", ce)
		}
		if ce.Source != "//storage.googleapis.com/projects/_/buckets/"+d.Bucket || ce.Subject != "objects/"+d.Name || d.Bucket != "acme-web-uploads" || d.Name == "" || d.Size == "" {
			t.Errorf("source/subject do not name the object: %+v %+v", ce, d)
		}
		tpl, _ := Get("storage-cloudevent")
		if !strings.HasPrefix(tpl.Headers["Content-Type"], "application/cloudevents+json") {
			t.Errorf("structured mode needs Content-Type application/cloudevents+json: %v", tpl.Headers)
		}
	})
	t.Run("cloudrun-http", func(t *testing.T) {
		var body map[string]string
		strict(t, fill(t, "cloudrun-http"), &body)
		if body["service"] != "thumbnailer" || body["project"] != "acme-web" {
			t.Errorf("body %v", body)
		}
	})
}

func TestFillEscapesAndDefaults(t *testing.T) {
	tpl, _ := Get("eventbridge")
	b, err := tpl.Fill(Vars{Function: `we"ird\name`})
	if err != nil {
		t.Fatal(err)
	}
	var e lambdaevents.EventBridgeEvent
	strict(t, b, &e)
	if e.Resources[0] != `arn:aws:events:us-east-1:123456789012:rule/we"ird\name-rule` || e.Region != "us-east-1" || e.AccountID != "123456789012" {
		t.Errorf("filled with defaults and escaped: %+v", e)
	}
	if got := len(For(false)) + len(For(true)); got != len(All) || len(For(true)) != 3 {
		t.Errorf("For splits %d templates into %d event and %d HTTP", len(All), len(For(false)), len(For(true)))
	}
	if v := VarsFor(cloud.Address{Provider: cloud.AWS, Region: "eu-west-1", Function: "f"}); v.Region != "eu-west-1" || v.Function != "f" {
		t.Errorf("VarsFor: %+v", v)
	}
}
