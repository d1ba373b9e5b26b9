package gcp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServiceAccountIDTokenHasServiceAudience checks the service-account
// path: a self-signed JWT asking for target_audience = the service URL is
// exchanged at the key's token_uri (a local fake) for an ID token.
func TestServiceAccountIDTokenHasServiceAudience(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	var gotAudience string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		parts := strings.Split(r.Form.Get("assertion"), ".")
		if len(parts) != 3 {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct {
			TargetAudience string `json:"target_audience"`
		}
		_ = json.Unmarshal(claims, &c)
		gotAudience = c.TargetAudience
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id_token": fakeJWT(c.TargetAudience)})
	}))
	defer tokens.Close()
	sa, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "acme-web", "private_key_id": "k1", "private_key": string(keyPEM),
		"client_email": "deployer@acme-web.iam.gserviceaccount.com", "client_id": "1", "token_uri": tokens.URL + "/token",
	})
	b := New(Options{CredentialsJSON: sa})
	tok, err := b.idToken(context.Background(), "https://api-x.a.run.app")
	if err != nil {
		t.Fatalf("idToken: %v", err)
	}
	if tok != fakeJWT("https://api-x.a.run.app") || gotAudience != "https://api-x.a.run.app" {
		t.Errorf("token %q for audience %q", tok, gotAudience)
	}
}

// fakeJWT is an unsigned token whose claims oauth2 can read (it reads exp).
func fakeJWT(aud string) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"aud": aud, "exp": time.Now().Add(time.Hour).Unix(), "iss": "https://accounts.google.com"})
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(claims) + ".c2ln"
}
