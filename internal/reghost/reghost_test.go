package reghost

import "testing"

func TestECR(t *testing.T) {
	for _, c := range []struct {
		host, acct, region string
		ok                 bool
	}{
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012", "us-east-1", true},
		{"123456789012.DKR.ECR.eu-west-3.amazonaws.com", "123456789012", "eu-west-3", true},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", true},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", true},
		{"12345678901.dkr.ecr.us-east-1.amazonaws.com", "", "", false},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com.evil", "", "", false},
		{"123456789012.dkr.ecr..amazonaws.com", "", "", false},
		{"public.ecr.aws", "", "", false},
		{"gcr.io", "", "", false},
	} {
		a, r, ok := ECR(c.host)
		if a != c.acct || r != c.region || ok != c.ok {
			t.Errorf("ECR(%q) = %q %q %v, want %q %q %v", c.host, a, r, ok, c.acct, c.region, c.ok)
		}
	}
	if h := ECRHost("123456789012", "us-east-1"); !IsECR(h) {
		t.Errorf("ECRHost gives %q, which IsECR refuses", h)
	}
}

func TestMatchers(t *testing.T) {
	for h, want := range map[string]bool{"gcr.io": true, "eu.gcr.io": true, "europe-west1-docker.pkg.dev": true, "docker.pkg.dev.evil.com": false, "ghcr.io": false} {
		if IsGoogle(h) != want {
			t.Errorf("IsGoogle(%q) = %v", h, !want)
		}
	}
	for in, want := range map[string]string{"https://index.docker.io/v1/": DockerHub, "docker.io": DockerHub, "Registry-1.Docker.io": DockerHub,
		"http://127.0.0.1:5000/": "127.0.0.1:5000", "GHCR.io": "ghcr.io"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"alpine": "", "team/app:1": "", "localhost/app": "localhost", "127.0.0.1:5000/a/b:1": "127.0.0.1:5000", "ghcr.io/o/a@sha256:ab": "ghcr.io"} {
		if got := OfRef(in); got != want {
			t.Errorf("OfRef(%q) = %q, want %q", in, got, want)
		}
	}
	for h, want := range map[string]bool{"localhost:5000": true, "127.0.0.1:80": true, "[::1]:5000": true, "::1": true, "10.0.0.1:5000": false, "example.com": false} {
		if IsLoopback(h) != want {
			t.Errorf("IsLoopback(%q) = %v", h, !want)
		}
	}
}
