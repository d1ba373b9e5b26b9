// Command compareecho is the aws-lambda-go handler the compare test deploys
// in two images: it echoes its event, and the image's VARIANT (an ENV in
// the Dockerfile) sets a version field and how many items it lists, so two
// images of it differ at known JSON paths.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, ev json.RawMessage) (map[string]any, error) {
	items := []string{"a", "b"}
	if os.Getenv("VARIANT") == "v2" {
		items = append(items, "c")
	}
	return map[string]any{"echo": ev, "version": os.Getenv("VARIANT"), "items": items}, nil
}

func main() { lambda.Start(handle) }
