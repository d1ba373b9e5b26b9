package gcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/fndeck/fndeck/cloud"
)

// gcloudRefreshMargin is how long before its expiry a gcloud token is
// asked for again, so that no call starts with a token about to lapse.
const gcloudRefreshMargin = 2 * time.Minute

// gcloudTokenSource hands out gcloud's own access token for its active
// account (`gcloud config config-helper --format=json`, the documented way
// for other tools to borrow gcloud's credentials) for users who ran
// `gcloud auth login` but not `gcloud auth application-default login`.
// The token is cached until gcloudRefreshMargin before its expiry.
type gcloudTokenSource struct {
	now func() time.Time
	// run runs the config helper; default execs gcloud from PATH.
	run func(ctx context.Context) ([]byte, error)

	mu      sync.Mutex
	tok     *oauth2.Token
	account string
	project string
}

func newGcloudTokenSource(now func() time.Time) *gcloudTokenSource {
	if now == nil {
		now = time.Now
	}
	return &gcloudTokenSource{now: now, run: runGcloudConfigHelper}
}

// errNoGcloud says gcloud is not installed.
var errNoGcloud = errors.New("gcloud not found on PATH")

func runGcloudConfigHelper(ctx context.Context) ([]byte, error) {
	bin, err := exec.LookPath("gcloud")
	if err != nil {
		return nil, errNoGcloud
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "config", "config-helper", "--format=json")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, fmt.Errorf("gcloud config config-helper: %w: %s", err, msg)
	}
	return out, nil
}

// configHelper is the part of config-helper's output used here.
type configHelper struct {
	Configuration struct {
		Properties struct {
			Core struct {
				Account string `json:"account"`
				Project string `json:"project"`
			} `json:"core"`
		} `json:"properties"`
	} `json:"configuration"`
	Credential struct {
		AccessToken string `json:"access_token"`
		TokenExpiry string `json:"token_expiry"`
	} `json:"credential"`
}

// Token returns the cached token, or asks gcloud for a fresh one when it is
// within gcloudRefreshMargin of its expiry.
func (s *gcloudTokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext is Token bounded by ctx.
func (s *gcloudTokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && (s.tok.Expiry.IsZero() || s.now().Add(gcloudRefreshMargin).Before(s.tok.Expiry)) {
		return s.tok, nil
	}
	out, err := s.run(ctx)
	if err != nil {
		return nil, cloud.WithHint(fmt.Errorf("getting gcloud's access token: %w: %v", cloud.ErrUnauthenticated, err), "gcloud auth login")
	}
	var h configHelper
	if err := json.Unmarshal(out, &h); err != nil {
		return nil, fmt.Errorf("reading gcloud config config-helper output: %w", err)
	}
	if h.Credential.AccessToken == "" {
		return nil, cloud.WithHint(fmt.Errorf("gcloud has no active account: %w", cloud.ErrUnauthenticated), "gcloud auth login")
	}
	tok := &oauth2.Token{AccessToken: h.Credential.AccessToken, TokenType: "Bearer"}
	if h.Credential.TokenExpiry != "" {
		exp, err := time.Parse(time.RFC3339Nano, h.Credential.TokenExpiry)
		if err != nil {
			return nil, fmt.Errorf("gcloud config config-helper: token_expiry %q: %w", h.Credential.TokenExpiry, err)
		}
		tok.Expiry = exp
	}
	s.tok, s.account, s.project = tok, h.Configuration.Properties.Core.Account, h.Configuration.Properties.Core.Project
	return tok, nil
}

// Expiry is the cached token's expiry (zero before the first Token).
func (s *gcloudTokenSource) Expiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return time.Time{}
	}
	return s.tok.Expiry
}
