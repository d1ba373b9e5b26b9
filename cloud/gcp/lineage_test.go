package gcp

import (
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
)

// A service's digest is its template image's when deployed by digest, else
// the fndeck.dev/digest annotation; its source is fndeck.dev/source.
func TestServiceLineageFields(t *testing.T) {
	for _, c := range []struct {
		name         string
		image        string
		ann          map[string]string
		digest, from string
	}{
		{"by digest", "eu.gcr.io/p/app@sha256:1", map[string]string{AnnotationSource: "eu.gcr.io/p/app:1"}, "sha256:1", "eu.gcr.io/p/app:1"},
		{"by tag, recorded", "eu.gcr.io/p/app:1", map[string]string{AnnotationSource: "app:1", AnnotationDigest: "sha256:2"}, "sha256:2", "app:1"},
		{"by tag, not fndeck", "eu.gcr.io/p/app:1", nil, "", ""},
	} {
		s := &runpb.Service{Name: "projects/p/locations/r/services/s", Template: &runpb.RevisionTemplate{
			Annotations: c.ann, Containers: []*runpb.Container{{Image: c.image}}}}
		fn := serviceToFunction(s)
		if fn.ImageDigest != c.digest || fn.SourceRef != c.from {
			t.Errorf("%s: digest %q source %q, want %q %q", c.name, fn.ImageDigest, fn.SourceRef, c.digest, c.from)
		}
	}
}
