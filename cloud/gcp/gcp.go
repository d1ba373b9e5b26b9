// Package gcp is fndeck's Google Cloud Run backend: inventory (Cloud Run
// Admin API v2), deploy and rollback, HTTP invoke with ID tokens, Cloud
// Logging history and live tail, and Artifact Registry / GCR credentials for
// the push seam. SDK types stay inside this package.
package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	logging "cloud.google.com/go/logging/apiv2"
	run "cloud.google.com/go/run/apiv2"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fndeck/fndeck/cloud"
	"github.com/fndeck/fndeck/cloud/accounts"
	"github.com/fndeck/fndeck/internal/reghost"
)

// cloudPlatformScope is the one scope every call here needs.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// hintLogin is what a user without Application Default Credentials must run.
const hintLogin = "gcloud auth application-default login"

// Options configures a Backend. Every field is optional.
type Options struct {
	// Projects to list (gcp.projects); empty means the ADC project.
	Projects []string
	// Regions to list (gcp.regions); empty means every Cloud Run location of
	// each project, from the Locations API.
	Regions []string
	// RunEndpoint and LoggingEndpoint override the API endpoints (host:port).
	// A loopback host is dialled in plaintext without authentication (tests,
	// private emulators); any other host uses TLS and ADC.
	RunEndpoint     string
	LoggingEndpoint string
	// ArtifactRegistryEndpoint overrides the Artifact Registry REST base URL
	// (default https://artifactregistry.googleapis.com). A loopback http URL
	// is called without authentication.
	ArtifactRegistryEndpoint string
	// Pusher pushes local images to Artifact Registry before a deploy.
	Pusher cloud.Pusher
	// ImageInspector says whether the local engine holds an image (the
	// docker engine's Inspect). A remote image it holds is pushed through
	// Pusher; one it lacks is copied registry to registry (cloud/registry),
	// without pulling it whole into the engine first.
	ImageInspector func(ctx context.Context, ref string) (cloud.ImageDetail, error)
	// Rewrite is registries.rewrite for registry-to-registry copies.
	Rewrite map[string]string
	// Auth supplies credentials for the registry a remote image is copied
	// from (the docker config); this backend's own token is asked first.
	Auth cloud.AuthProvider
	// HTTPClient sends invoke requests, user token exchanges and Artifact
	// Registry calls; default is a client without timeout (the caller's ctx
	// bounds every call).
	HTTPClient *http.Client
	// CredentialsJSON, when set, replaces Application Default Credentials
	// (the content of a service account key or an authorized_user file).
	CredentialsJSON []byte
	// TokenSource, when set, supplies access tokens instead of ADC (registry
	// auth, Artifact Registry REST).
	TokenSource oauth2.TokenSource
	// ListConcurrency limits parallel ListServices calls per List; default 8.
	ListConcurrency int
	// Now is the clock for token expiry (tests inject one); default time.Now.
	Now func() time.Time
	// Resolver resolves a tag to the linux/amd64 manifest digest before a
	// deploy, so a moved tag makes a new revision. Nil: images are deployed
	// as given (a tag stays a tag).
	Resolver cloud.DigestResolver
}

// Backend talks to Cloud Run and Cloud Logging. Clients are created on first
// use so that New costs nothing at TUI start-up.
type Backend struct {
	opts Options

	mu        sync.Mutex
	creds     *google.Credentials
	services  *run.ServicesClient
	revisions *run.RevisionsClient
	locations *run.LocationsClient
	logs      *logging.Client
	idTokens  map[string]*oauth2.Token // audience → cached ID token
	urls      map[string]string        // address → service URL, for invoke
	tails     map[string]*tailHub      // project (+query) → shared live tail
	pacers    map[string]*pacer        // project → ListLogEntries pacing
	clock     clock                    // pacing and backoff; tests replace it
	gcloud    *gcloudTokenSource       // set when credentials are gcloud's, not ADC
	sources   map[string]string        // discovered project → where it came from
}

// New returns a Backend; it touches neither the network nor ADC.
func New(opts Options) *Backend {
	if opts.ListConcurrency <= 0 {
		opts.ListConcurrency = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Backend{opts: opts, idTokens: map[string]*oauth2.Token{}, urls: map[string]string{}, tails: map[string]*tailHub{}, clock: realClock{}, sources: map[string]string{}}
}

// Compile-time proofs of the capabilities this backend offers.
var (
	_ cloud.Lister       = (*Backend)(nil)
	_ cloud.Describer    = (*Backend)(nil)
	_ cloud.Deployer     = (*Backend)(nil)
	_ cloud.RollBacker   = (*Backend)(nil)
	_ cloud.Invoker      = (*Backend)(nil)
	_ cloud.LogTailer    = (*Backend)(nil)
	_ cloud.AuthProvider = (*Backend)(nil)
)

// Provider reports cloud.GCP.
func (b *Backend) Provider() cloud.Provider { return cloud.GCP }

// Close releases every client created so far.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	if b.services != nil {
		errs = append(errs, b.services.Close(), b.revisions.Close(), b.locations.Close())
	}
	if b.logs != nil {
		errs = append(errs, b.logs.Close())
	}
	b.services, b.revisions, b.locations, b.logs = nil, nil, nil, nil
	return errors.Join(errs...)
}

// endpointIsLoopback reports whether a host[:port] endpoint is on this
// machine (kept for invoke.go, which another change reworks).
func endpointIsLoopback(endpoint string) bool { return reghost.IsLoopback(endpoint) }

// credentials returns ADC (or Options.CredentialsJSON), cached after the
// first success. Failure wraps cloud.ErrUnauthenticated with the login hint.
func (b *Backend) credentials(ctx context.Context) (*google.Credentials, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.credentialsLocked(ctx)
}

func (b *Backend) credentialsLocked(ctx context.Context) (*google.Credentials, error) {
	if b.creds != nil {
		return b.creds, nil
	}
	var (
		c   *google.Credentials
		err error
	)
	switch {
	case len(b.opts.CredentialsJSON) > 0:
		c, err = google.CredentialsFromJSON(ctx, b.opts.CredentialsJSON, cloudPlatformScope)
	case useGcloud():
		c, err = b.gcloudCredentials(ctx)
		if err != nil {
			return nil, err
		}
	default:
		c, err = google.FindDefaultCredentials(ctx, cloudPlatformScope)
	}
	if err != nil {
		return nil, cloud.WithHint(fmt.Errorf("loading google application default credentials: %w: %v", cloud.ErrUnauthenticated, err), hintLogin)
	}
	b.creds = c
	return c, nil
}

// useGcloud reports whether the credentials should be gcloud's own: there
// is no ADC file (nor GOOGLE_APPLICATION_CREDENTIALS) but gcloud has an
// active account. Asking gcloud first also spares the metadata-server probe
// ADC makes off Google Cloud.
func useGcloud() bool {
	if os.Getenv("GOOGLE_APPLICATION_CREDENTIALS") != "" {
		return false
	}
	if _, found, err := accounts.ReadADC(); found || err != nil {
		return false
	}
	props, _ := accounts.ReadGcloudProperties()
	return props.Account != ""
}

// gcloudCredentials borrows gcloud's active account's token; the first
// token is fetched now so that a gcloud that cannot answer fails here with
// its reason rather than inside a client.
func (b *Backend) gcloudCredentials(ctx context.Context) (*google.Credentials, error) {
	ts := newGcloudTokenSource(b.opts.Now)
	if _, err := ts.TokenContext(ctx); err != nil {
		return nil, cloud.WithHint(fmt.Errorf("no application default credentials, and %w", err),
			hintLogin+" (or gcloud auth login)")
	}
	b.gcloud = ts
	return &google.Credentials{ProjectID: ts.project, TokenSource: ts}, nil
}

// clientOptions builds the options for a gRPC client at endpoint.
func (b *Backend) clientOptions(ctx context.Context, endpoint string) ([]option.ClientOption, error) {
	if endpoint != "" && reghost.IsLoopback(endpoint) {
		return []option.ClientOption{
			option.WithEndpoint(endpoint),
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		}, nil
	}
	var opts []option.ClientOption
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint))
	}
	if b.opts.TokenSource != nil {
		return append(opts, option.WithTokenSource(b.opts.TokenSource)), nil
	}
	c, err := b.credentialsLocked(ctx)
	if err != nil {
		return nil, err
	}
	return append(opts, option.WithCredentials(c)), nil
}

// runClients returns the Cloud Run clients, creating them on first use. The
// clients outlive the call that created them, so they are built with a
// context that keeps ctx's values but not its cancellation.
func (b *Backend) runClients(ctx context.Context) (*run.ServicesClient, *run.RevisionsClient, *run.LocationsClient, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.services != nil {
		return b.services, b.revisions, b.locations, nil
	}
	cctx := context.WithoutCancel(ctx)
	opts, err := b.clientOptions(cctx, b.opts.RunEndpoint)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := run.NewServicesClient(cctx, opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating cloud run services client: %w", err)
	}
	r, err := run.NewRevisionsClient(cctx, opts...)
	if err != nil {
		s.Close()
		return nil, nil, nil, fmt.Errorf("creating cloud run revisions client: %w", err)
	}
	l, err := run.NewLocationsClient(cctx, opts...)
	if err != nil {
		s.Close()
		r.Close()
		return nil, nil, nil, fmt.Errorf("creating cloud run locations client: %w", err)
	}
	b.services, b.revisions, b.locations = s, r, l
	return s, r, l, nil
}

// loggingClient returns the Cloud Logging client, creating it on first use.
func (b *Backend) loggingClient(ctx context.Context) (*logging.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.logs != nil {
		return b.logs, nil
	}
	cctx := context.WithoutCancel(ctx)
	opts, err := b.clientOptions(cctx, b.opts.LoggingEndpoint)
	if err != nil {
		return nil, err
	}
	c, err := logging.NewClient(cctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating cloud logging client: %w", err)
	}
	b.logs = c
	return c, nil
}

// projects returns the projects to list: the filter's, else the configured
// ones, else the one discovered (environment, gcloud's active
// configuration, ADC's quota project, the credentials' project), whose
// source is remembered for the group header.
func (b *Backend) projects(ctx context.Context, f cloud.ListFilter) ([]string, error) {
	if len(f.Projects) > 0 {
		return f.Projects, nil
	}
	if len(b.opts.Projects) > 0 {
		return b.opts.Projects, nil
	}
	if p, ok := accounts.DiscoverGCPProject(); ok {
		src := p.Source
		if src == accounts.SourceEnv {
			src = p.Detail // the variable's name says more
		}
		b.setSource(p.ID, src)
		return []string{p.ID}, nil
	}
	c, err := b.credentials(ctx)
	if err != nil {
		return nil, err
	}
	if c.ProjectID == "" {
		return nil, cloud.WithHint(errors.New("no gcp project: set gcp.projects or GOOGLE_CLOUD_PROJECT"), "gcloud config set project PROJECT, or set gcp.projects in the fndeck config")
	}
	src := accounts.SourceCredentials
	if b.usesGcloud() {
		src = accounts.SourceGcloud
	}
	b.setSource(c.ProjectID, src)
	return []string{c.ProjectID}, nil
}

func (b *Backend) setSource(project, source string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sources[project] = source
}

func (b *Backend) usesGcloud() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gcloud != nil
}

// scope is a project's group label: "acme-web (gcloud config)" when it was
// discovered, the bare ID when configured or asked for.
func (b *Backend) scope(project string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if src := b.sources[project]; src != "" {
		return project + " (" + src + ")"
	}
	return project
}

func (b *Backend) httpClient() *http.Client {
	if b.opts.HTTPClient != nil {
		return b.opts.HTTPClient
	}
	return http.DefaultClient
}

// Short names for the generated clients, so signatures stay readable.
type (
	servicesClient  = run.ServicesClient
	revisionsClient = run.RevisionsClient
	locationsClient = run.LocationsClient
)
