// Command hello is the aws-lambda-go handler the local target's tests deploy.
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type input struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

func handle(ctx context.Context, in input) (map[string]string, error) {
	switch in.Name {
	case "fail":
		return nil, errors.New("name must not be fail")
	case "sleep":
		d := 5 * time.Second
		if in.Seconds > 0 {
			d = time.Duration(in.Seconds * float64(time.Second))
		}
		fmt.Println("sleeping", d)
		time.Sleep(d) // deliberately ignores ctx, like a function that overruns
	}
	fmt.Println("greeting", in.Name)
	return map[string]string{"greeting": "hello " + in.Name}, nil
}

func main() { lambda.Start(handle) }
