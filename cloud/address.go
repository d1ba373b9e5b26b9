package cloud

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Provider names a backend.
type Provider string

// The providers fndeck knows.
const (
	AWS   Provider = "aws"
	GCP   Provider = "gcp"
	Local Provider = "local"
)

// Address names one function:
//
//	lambda:[PROFILE@]REGION/FUNCTION[:QUALIFIER]
//	cloudrun:PROJECT/REGION/SERVICE
//	local:NAME
type Address struct {
	Provider  Provider
	Profile   string // lambda, optional
	Region    string // lambda, cloudrun
	Function  string // lambda function name, cloudrun service, local name
	Qualifier string // lambda alias or version, optional
	Project   string // cloudrun
}

// Scheme returns the address prefix for the provider.
func (a Address) Scheme() string {
	switch a.Provider {
	case AWS:
		return "lambda"
	case GCP:
		return "cloudrun"
	case Local:
		return "local"
	}
	return string(a.Provider)
}

// String prints the canonical form, which ParseAddress reads back.
func (a Address) String() string {
	switch a.Provider {
	case AWS:
		s := "lambda:"
		if a.Profile != "" {
			s += a.Profile + "@"
		}
		s += a.Region + "/" + a.Function
		if a.Qualifier != "" {
			s += ":" + a.Qualifier
		}
		return s
	case GCP:
		return "cloudrun:" + a.Project + "/" + a.Region + "/" + a.Function
	case Local:
		return "local:" + a.Function
	}
	return ""
}

// Key identifies the deployed thing regardless of qualifier-free spelling;
// it names deploy locks and history files.
func (a Address) Key() string { return a.String() }

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool { return a.Provider == "" }

var (
	reRegion     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2,}(-[a-z]+)+-\d+$`) })
	reLambdaName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`) })
	reQualifier  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\$LATEST|[0-9]+|[A-Za-z0-9_-]{1,128})$`) })
	reProfile    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.+=,@-]{1,128}$`) })
	reProject    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z][a-z0-9.:-]{2,62}$`)
	})
	reGCPRegion   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]+-[a-z]+\d+$`) })
	reServiceName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`) })
	reLocalName   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`) })
)

// AddressError explains why an address does not parse.
type AddressError struct {
	Input  string
	Reason string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("invalid address %q: %s", e.Input, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *AddressError) Unwrap() error { return ErrInvalid }

// ParseAddress reads a function address.
func ParseAddress(s string) (Address, error) {
	bad := func(format string, args ...any) (Address, error) {
		return Address{}, &AddressError{Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok {
		return bad("expected lambda:[PROFILE@]REGION/FUNCTION[:QUALIFIER], cloudrun:PROJECT/REGION/SERVICE or local:NAME")
	}
	switch scheme {
	case "lambda":
		a := Address{Provider: AWS}
		if p, r, ok := strings.Cut(rest, "@"); ok {
			if !reProfile().MatchString(p) {
				return bad("profile %q is not a valid profile name", p)
			}
			a.Profile, rest = p, r
		}
		region, fn, ok := strings.Cut(rest, "/")
		if !ok {
			return bad("expected REGION/FUNCTION after \"lambda:\"")
		}
		if !reRegion().MatchString(region) {
			return bad("region %q is not an AWS region (like eu-west-1)", region)
		}
		a.Region = region
		if f, q, ok := strings.Cut(fn, ":"); ok {
			if !reQualifier().MatchString(q) {
				return bad("qualifier %q is not a version or alias", q)
			}
			fn, a.Qualifier = f, q
		}
		if !reLambdaName().MatchString(fn) {
			return bad("function name %q: use 1-64 letters, digits, '-' or '_'", fn)
		}
		a.Function = fn
		return a, nil
	case "cloudrun":
		parts := strings.Split(rest, "/")
		if len(parts) != 3 {
			return bad("expected cloudrun:PROJECT/REGION/SERVICE")
		}
		if !reProject().MatchString(parts[0]) {
			return bad("project %q is not a GCP project ID", parts[0])
		}
		if !reGCPRegion().MatchString(parts[1]) {
			return bad("region %q is not a GCP region (like europe-west1)", parts[1])
		}
		if !reServiceName().MatchString(parts[2]) {
			return bad("service %q: use lowercase letters, digits and '-', starting with a letter, at most 63", parts[2])
		}
		return Address{Provider: GCP, Project: parts[0], Region: parts[1], Function: parts[2]}, nil
	case "local":
		if !reLocalName().MatchString(rest) {
			return bad("name %q: use lowercase letters, digits, '.', '_' or '-', at most 63", rest)
		}
		return Address{Provider: Local, Function: rest}, nil
	}
	return bad("unknown provider %q (use lambda:, cloudrun: or local:)", scheme)
}
