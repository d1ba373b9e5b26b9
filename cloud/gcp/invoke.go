package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/idtoken"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/httpinvoke"
)

// Invoke sends an HTTP request to the service URL through httpinvoke (the
// same call a local cloudrun function gets): an HTTP answer of 400 or more
// sets FunctionError. An ID token is attached by the client's transport when
// credentials can produce one; when they cannot, the request goes without
// and a 401/403 answer is explained with the token error.
func (b *Backend) Invoke(ctx context.Context, req cloud.InvokeRequest, chunk func([]byte)) (cloud.InvokeResult, error) {
	t := req.Target
	base, err := b.serviceURL(ctx, t)
	if err != nil {
		return cloud.InvokeResult{Address: t.String()}, err
	}
	hc := b.httpClient()
	tr := &idTokenTransport{b: b, audience: strings.TrimRight(base, "/"), next: hc.Transport}
	client := *hc
	client.Transport = tr
	res, err := httpinvoke.Invoke(ctx, &client, base, req, chunk)
	if err != nil {
		if errors.Is(err, cloud.ErrUnreachable) {
			b.forgetURL(t) // the service may have moved; ask again next time
		}
		return res, err
	}
	if res.StatusCode == http.StatusNotFound {
		b.forgetURL(t)
	}
	if (res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden) && tr.tokenErr != nil {
		return res, cloud.WithHint(fmt.Errorf("invoking %s: http %d and no id token could be made: %w", t, res.StatusCode, tr.tokenErr), hintLogin)
	}
	return res, nil
}

// idTokenTransport adds the service's ID token to a request that carries no
// Authorization of its own. One is made per invocation: tokenErr keeps why
// no token could be made, to explain a 401/403 answer.
type idTokenTransport struct {
	b        *Backend
	audience string
	next     http.RoundTripper
	tokenErr error
}

func (t *idTokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	if r.Header.Get("Authorization") != "" {
		return next.RoundTrip(r)
	}
	tok, err := t.b.idToken(r.Context(), t.audience)
	if err != nil {
		t.tokenErr = err
		return next.RoundTrip(r)
	}
	r2 := r.Clone(r.Context()) // a RoundTripper must not change its request
	r2.Header.Set("Authorization", "Bearer "+tok)
	return next.RoundTrip(r2)
}

// serviceURL returns the service's URL, remembered after the first lookup:
// it does not change while the service exists, and repeated invokes should
// not pay an Admin API round trip each.
func (b *Backend) serviceURL(ctx context.Context, t cloud.Address) (string, error) {
	key := t.String()
	b.mu.Lock()
	u, ok := b.urls[key]
	b.mu.Unlock()
	if ok {
		return u, nil
	}
	svc, err := b.getService(ctx, t)
	if err != nil {
		return "", err
	}
	u = svc.GetUri()
	if u == "" && len(svc.GetUrls()) > 0 {
		u = svc.GetUrls()[0]
	}
	if u == "" {
		return "", fmt.Errorf("invoking %s: the service has no url (is its default url disabled?): %w", t, cloud.ErrInvalid)
	}
	b.mu.Lock()
	b.urls[key] = u
	b.mu.Unlock()
	return u, nil
}

func (b *Backend) forgetURL(t cloud.Address) {
	b.mu.Lock()
	delete(b.urls, t.String())
	b.mu.Unlock()
}

// credentialsFile is the part of a credentials JSON file we read.
type credentialsFile struct {
	Type         string `json:"type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
	TokenURI     string `json:"token_uri"`
}

// idToken returns an ID token for audience. Service accounts, impersonation
// and the metadata server go through the idtoken package. authorized_user
// credentials — what `gcloud auth application-default login` writes — are
// refused by idtoken, so their ID token comes from the refresh exchange: its
// audience is the OAuth client, not the service URL, which Cloud Run accepts
// for users holding roles/run.invoker.
func (b *Backend) idToken(ctx context.Context, audience string) (string, error) {
	if len(b.opts.CredentialsJSON) == 0 && b.opts.RunEndpoint != "" && endpointIsLoopback(b.opts.RunEndpoint) {
		// A loopback Cloud Run endpoint is an emulator or a test: like its
		// gRPC calls, its services are called without credentials, and ADC
		// discovery (which may probe the metadata server) is not started.
		return "", errors.New("no id token: the cloud run endpoint is a loopback emulator")
	}
	b.mu.Lock()
	if tok, ok := b.idTokens[audience]; ok && tok.Valid() {
		b.mu.Unlock()
		return tok.AccessToken, nil
	}
	creds, err := b.credentialsLocked(ctx)
	b.mu.Unlock()
	if err != nil {
		return "", err
	}
	var cf credentialsFile
	if len(creds.JSON) > 0 {
		if err := json.Unmarshal(creds.JSON, &cf); err != nil {
			return "", fmt.Errorf("reading credentials: %w", err)
		}
	}
	var tok *oauth2.Token
	if cf.Type == "authorized_user" {
		tok, err = b.userIDToken(ctx, cf)
	} else {
		var ts oauth2.TokenSource
		if len(creds.JSON) > 0 {
			ts, err = idtoken.NewTokenSource(ctx, audience, idtoken.WithCredentialsJSON(creds.JSON))
		} else {
			ts, err = idtoken.NewTokenSource(ctx, audience)
		}
		if err == nil {
			tok, err = ts.Token()
		}
	}
	if err != nil {
		return "", fmt.Errorf("getting an id token for %s: %w", audience, err)
	}
	b.mu.Lock()
	b.idTokens[audience] = tok
	b.mu.Unlock()
	return tok.AccessToken, nil
}

// userIDToken exchanges an authorized_user refresh token at its token URI
// and returns the id_token of the answer (as the token's AccessToken).
func (b *Backend) userIDToken(ctx context.Context, cf credentialsFile) (*oauth2.Token, error) {
	uri := cf.TokenURI
	if uri == "" {
		uri = "https://oauth2.googleapis.com/token"
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {cf.ClientID},
		"client_secret": {cf.ClientSecret},
		"refresh_token": {cf.RefreshToken},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("refreshing user credentials: %w: %v", cloud.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("refreshing user credentials: %w", err)
	}
	var ans struct {
		IDToken   string `json:"id_token"`
		ExpiresIn int64  `json:"expires_in"`
		Error     string `json:"error"`
		ErrorDesc string `json:"error_description"`
	}
	_ = json.Unmarshal(data, &ans)
	if resp.StatusCode != http.StatusOK {
		// The answer's error fields are safe to show; the request's are not.
		return nil, cloud.WithHint(fmt.Errorf("refreshing user credentials: %w: http %d %s %s", cloud.ErrUnauthenticated, resp.StatusCode, ans.Error, ans.ErrorDesc), hintLogin)
	}
	if ans.IDToken == "" {
		return nil, cloud.WithHint(errors.New("refreshing user credentials: the answer has no id_token (were the credentials made without the openid scope?)"), hintLogin)
	}
	exp := time.Now().Add(50 * time.Minute)
	if ans.ExpiresIn > 0 {
		// Renew a minute early so a token never expires in flight.
		exp = time.Now().Add(time.Duration(ans.ExpiresIn)*time.Second - time.Minute)
	}
	return &oauth2.Token{AccessToken: ans.IDToken, Expiry: exp}, nil
}
