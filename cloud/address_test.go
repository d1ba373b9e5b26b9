package cloud

import (
	"errors"
	"testing"
)

func TestParseAddressRoundTrip(t *testing.T) {
	cases := []struct {
		in   string
		want Address
	}{
		{"lambda:prod@eu-west-1/thumbnailer", Address{Provider: AWS, Profile: "prod", Region: "eu-west-1", Function: "thumbnailer"}},
		{"lambda:us-east-1/fn:live", Address{Provider: AWS, Region: "us-east-1", Function: "fn", Qualifier: "live"}},
		{"lambda:us-gov-west-1/fn:$LATEST", Address{Provider: AWS, Region: "us-gov-west-1", Function: "fn", Qualifier: "$LATEST"}},
		{"lambda:a.b@ap-southeast-2/My_Fn-1:7", Address{Provider: AWS, Profile: "a.b", Region: "ap-southeast-2", Function: "My_Fn-1", Qualifier: "7"}},
		{"cloudrun:acme-web/europe-west1/api", Address{Provider: GCP, Project: "acme-web", Region: "europe-west1", Function: "api"}},
		{"local:hello", Address{Provider: Local, Function: "hello"}},
	}
	for _, c := range cases {
		got, err := ParseAddress(c.in)
		if err != nil {
			t.Fatalf("ParseAddress(%q): %v", c.in, err)
		}
		if got != c.want {
			t.Errorf("ParseAddress(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if got.String() != c.in {
			t.Errorf("String() = %q, want %q", got.String(), c.in)
		}
	}
}

func TestParseAddressErrors(t *testing.T) {
	cases := map[string]string{
		"thumbnailer":                  "expected lambda:",
		"lambda:eu-west-1":             "REGION/FUNCTION",
		"lambda:euwest/fn":             "not an AWS region",
		"lambda:eu-west-1/fn with sp":  "function name",
		"lambda:eu-west-1/fn:bad q":    "qualifier",
		"cloudrun:acme/europe-west1":   "PROJECT/REGION/SERVICE",
		"cloudrun:acme-web/-/api":      "not a GCP region",
		"cloudrun:acme-web/us-east1/A": "service",
		"local:":                       "name",
		"gcf:x":                        "unknown provider",
	}
	for in, want := range cases {
		_, err := ParseAddress(in)
		if err == nil {
			t.Errorf("ParseAddress(%q) succeeded, want error containing %q", in, want)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseAddress(%q) error %v does not wrap ErrInvalid", in, err)
		}
		if !contains(err.Error(), want) {
			t.Errorf("ParseAddress(%q) = %v, want it to mention %q", in, err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
