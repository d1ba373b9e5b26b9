// Package aws is fndeck's AWS Lambda backend: it lists functions across
// profiles × regions, describes, deploys (pushing to ECR first when needed),
// rolls back, invokes and tails CloudWatch logs. SDK types stop here; callers
// see only cloud's value types.
//
// Clients are built lazily, per profile, on first use: New never touches the
// network or the shared config files, so the TUI starts without waiting on AWS.
// Endpoints come from the SDK's standard chain (AWS_ENDPOINT_URL[_SERVICE]),
// which is how tests point the backend at moto or an in-process fake.
package aws

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/time/rate"

	"github.com/fndeck/fndeck/cloud"
)

// Options configures a Backend. Zero values pick sensible defaults.
type Options struct {
	// Profiles as configured: empty = the SDK's default chain (the "" profile);
	// "all" = every profile in the shared config and credentials files.
	Profiles []string
	// Regions as configured: empty = each profile's region; "all" = every
	// region enabled for the account (Account API), falling back to the
	// partition's region list.
	Regions []string
	// LiveTail follows logs with CloudWatch Logs Live Tail (logs.live_tail);
	// false polls FilterLogEvents instead.
	LiveTail bool
	// Pusher pushes a local image to ECR before a deploy (the docker engine
	// pusher). Nil means local images cannot be deployed.
	Pusher cloud.Pusher
	// ImageInspector reports a local image's detail (existence, architecture);
	// nil means every deploy image is treated as a registry reference.
	ImageInspector func(ctx context.Context, ref string) (cloud.ImageDetail, error)
	// Resolver resolves a tag in the target's ECR to the manifest digest of
	// the function's platform before a deploy, so the function (and its
	// rollback) is pinned by digest. Nil: a reference is deployed as given.
	Resolver cloud.DigestResolver
	// Rewrite is registries.rewrite (registry host → host to use instead),
	// applied when a remote image is copied to ECR.
	Rewrite map[string]string
	// Auth supplies credentials for the registry a remote image is copied
	// from (the docker config chain); ECR hosts are answered by the Backend.
	Auth cloud.AuthProvider
	// Concurrency bounds the AWS API calls in flight at once across every
	// profile and region (default 512). Per account×region rates are bounded
	// separately to stay under Lambda's control-plane limits.
	Concurrency int
	// DescribeAll makes List fill every row with GetFunction before emitting
	// it (for --json); otherwise rows are emitted fast with Partial set.
	DescribeAll bool
	// HTTPClient replaces the SDK's HTTP client (tests, proxies). The SDK
	// refuses to combine a plain *http.Client with AWS_CA_BUNDLE: such a
	// client must carry its own root CAs.
	HTTPClient *http.Client
	// WaitMinDelay / WaitMaxDelay tune the SDK waiters' polling after a
	// deploy (defaults 1s / 10s).
	WaitMinDelay, WaitMaxDelay time.Duration
	// WaitTimeout bounds a deploy's wait for Active/Successful (default 10m).
	WaitTimeout time.Duration
	// Now is the clock for session expiry (tests inject one); default time.Now.
	Now func() time.Time
}

// Lambda's documented control-plane limits per account and region:
// GetFunction 100 requests/s, other control-plane calls 15 requests/s.
const (
	getFunctionRate = 100
	controlRate     = 15
)

// Backend is the AWS Lambda backend. It is safe for concurrent use.
type Backend struct {
	opts Options
	sem  chan struct{}

	mu       sync.Mutex
	profiles map[string]*profileState
	limits   map[string]*limiterPair // by account/region

	ecrMu    sync.Mutex
	ecrCache map[string]cloud.RegistryAuth // by registry host

	urlMu    sync.Mutex
	urlModes map[string]bool // streaming invoke mode by address key
}

var (
	_ cloud.Lister       = (*Backend)(nil)
	_ cloud.Describer    = (*Backend)(nil)
	_ cloud.Deployer     = (*Backend)(nil)
	_ cloud.RollBacker   = (*Backend)(nil)
	_ cloud.Invoker      = (*Backend)(nil)
	_ cloud.LogTailer    = (*Backend)(nil)
	_ cloud.AuthProvider = (*Backend)(nil)
)

// New returns a Backend. It does no I/O: SDK configs and clients are built
// per profile on first use.
func New(opts Options) *Backend {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 512
	}
	if opts.WaitMinDelay <= 0 {
		opts.WaitMinDelay = time.Second
	}
	if opts.WaitMaxDelay < opts.WaitMinDelay {
		opts.WaitMaxDelay = 10 * time.Second
		if opts.WaitMaxDelay < opts.WaitMinDelay {
			opts.WaitMaxDelay = opts.WaitMinDelay
		}
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 10 * time.Minute
	}
	return &Backend{
		opts:     opts,
		sem:      make(chan struct{}, opts.Concurrency),
		profiles: map[string]*profileState{},
		limits:   map[string]*limiterPair{},
		ecrCache: map[string]cloud.RegistryAuth{},
		urlModes: map[string]bool{},
	}
}

// Provider is cloud.AWS.
func (b *Backend) Provider() cloud.Provider { return cloud.AWS }

// profileState holds one profile's lazily loaded SDK config, its account and
// its regional clients.
type profileState struct {
	name string

	loadOnce sync.Once
	cfg      sdkaws.Config
	cfgErr   error

	mu      sync.Mutex
	account string // cached after the first successful GetCallerIdentity
	clients map[string]*regionClients
}

// regionClients are the SDK clients for one profile × region.
type regionClients struct {
	lambda lambdaAPI
	logs   logsAPI
	ecr    ecrAPI
	// customLogsEndpoint is true when the logs endpoint was overridden,
	// which means Live Tail's "stream-" host prefix must be disabled.
	customLogsEndpoint bool
}

type limiterPair struct {
	get, control *rate.Limiter
}

// lambdaAPI lists the Lambda calls fndeck makes, so a test may stand in.
type lambdaAPI interface {
	lambda.GetFunctionAPIClient
	lambda.GetFunctionConfigurationAPIClient
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, opts ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	TagResource(ctx context.Context, in *lambda.TagResourceInput, opts ...func(*lambda.Options)) (*lambda.TagResourceOutput, error)
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, opts ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	GetAlias(ctx context.Context, in *lambda.GetAliasInput, opts ...func(*lambda.Options)) (*lambda.GetAliasOutput, error)
	UpdateAlias(ctx context.Context, in *lambda.UpdateAliasInput, opts ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
	InvokeWithResponseStream(ctx context.Context, in *lambda.InvokeWithResponseStreamInput, opts ...func(*lambda.Options)) (*lambda.InvokeWithResponseStreamOutput, error)
	GetFunctionUrlConfig(ctx context.Context, in *lambda.GetFunctionUrlConfigInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionUrlConfigOutput, error)
}

// logsAPI lists the CloudWatch Logs calls fndeck makes.
type logsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
	StartLiveTail(ctx context.Context, in *cloudwatchlogs.StartLiveTailInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StartLiveTailOutput, error)
	DescribeLogStreams(ctx context.Context, in *cloudwatchlogs.DescribeLogStreamsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogStreamsOutput, error)
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// ecrAPI lists the ECR calls fndeck makes.
type ecrAPI interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, opts ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
	DescribeRepositories(ctx context.Context, in *ecr.DescribeRepositoriesInput, opts ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	CreateRepository(ctx context.Context, in *ecr.CreateRepositoryInput, opts ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error)
}

// profile returns the state for a profile name, creating it (without I/O).
func (b *Backend) profile(name string) *profileState {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.profiles[name]
	if !ok {
		p = &profileState{name: name, clients: map[string]*regionClients{}}
		b.profiles[name] = p
	}
	return p
}

// config loads the profile's SDK config once. ctx of the first caller is used
// for loading; the SDK does no network I/O while loading.
func (b *Backend) config(ctx context.Context, p *profileState) (sdkaws.Config, error) {
	p.loadOnce.Do(func() {
		var lo []func(*config.LoadOptions) error
		if p.name != "" {
			lo = append(lo, config.WithSharedConfigProfile(p.name))
		}
		if mfa := b.mfaCredentials(p.name); mfa != nil {
			lo = append(lo, mfa)
		}
		if b.opts.HTTPClient != nil {
			lo = append(lo, config.WithHTTPClient(b.opts.HTTPClient))
		} else {
			// A listing keeps up to Concurrency calls in flight, 20 or so per
			// regional endpoint; keeping those connections (TLS on AWS) alive
			// between pages and describes saves a handshake per call.
			idle := b.opts.Concurrency
			lo = append(lo, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
				tr.MaxIdleConns = idle
				tr.MaxIdleConnsPerHost = idle
			})))
		}
		cfg, err := config.LoadDefaultConfig(ctx, lo...)
		if err != nil {
			p.cfgErr = classify(fmt.Errorf("loading AWS config for %s: %w", profileLabel(p.name), err), p.name)
			return
		}
		p.cfg = cfg
	})
	return p.cfg, p.cfgErr
}

// clients returns the profile × region clients, building them on first use.
func (b *Backend) clients(ctx context.Context, profile, region string) (*regionClients, error) {
	p := b.profile(profile)
	cfg, err := b.config(ctx, p)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rc, ok := p.clients[region]; ok {
		return rc, nil
	}
	logs := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.Region = region })
	rc := &regionClients{
		lambda:             lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Region = region }),
		logs:               logs,
		ecr:                ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.Region = region }),
		customLogsEndpoint: logs.Options().BaseEndpoint != nil,
	}
	p.clients[region] = rc
	return rc, nil
}

// account returns the profile's account ID (STS GetCallerIdentity), cached
// after the first success. The region only picks the STS endpoint.
func (b *Backend) account(ctx context.Context, profile, region string) (string, error) {
	p := b.profile(profile)
	cfg, err := b.config(ctx, p)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	acct := p.account
	p.mu.Unlock()
	if acct != "" {
		return acct, nil
	}
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		region = "us-east-1"
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = region })
	var out *sts.GetCallerIdentityOutput
	err = b.call(ctx, nil, func() error {
		var e error
		out, e = client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return e
	})
	if err != nil {
		return "", classify(fmt.Errorf("resolving the account of %s: %w", profileLabel(profile), err), profile)
	}
	acct = sdkaws.ToString(out.Account)
	p.mu.Lock()
	p.account = acct
	p.mu.Unlock()
	return acct, nil
}

// accountClient builds an Account API client for a profile (ListRegions).
func (b *Backend) accountClient(ctx context.Context, profile string) (*account.Client, error) {
	cfg, err := b.config(ctx, b.profile(profile))
	if err != nil {
		return nil, err
	}
	return account.NewFromConfig(cfg, func(o *account.Options) {
		if o.Region == "" {
			o.Region = "us-east-1"
		}
	}), nil
}

// limiter returns the rate limiters for one account × region. Profiles on
// the same account share them because AWS counts per account.
func (b *Backend) limiter(acct, region string) *limiterPair {
	key := acct + "/" + region
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.limits[key]
	if !ok {
		l = &limiterPair{
			get:     rate.NewLimiter(getFunctionRate, 20),
			control: rate.NewLimiter(controlRate, 5),
		}
		b.limits[key] = l
	}
	return l
}

// waiter is a rate limiter (golang.org/x/time/rate.Limiter).
type waiter interface{ Wait(context.Context) error }

// call runs fn holding a concurrency slot, after waiting for lim (when set).
func (b *Backend) call(ctx context.Context, lim waiter, fn func() error) error {
	if lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return err
		}
	}
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.sem }()
	return fn()
}

// profileFor picks the profile for an address: its own, else the first
// configured one, else the default chain.
func (b *Backend) profileFor(a cloud.Address) string {
	if a.Profile != "" {
		return a.Profile
	}
	for _, p := range b.opts.Profiles {
		if p != "all" {
			return p
		}
	}
	return ""
}

// profileLabel names a profile in messages. For the default chain it names
// the profile AWS_PROFILE / AWS_DEFAULT_PROFILE selects, when one does, so
// that "failed to get shared config profile, X" is not blamed on "default".
func profileLabel(p string) string {
	if p == "" {
		if env, k := profileFromEnv(); env != "" {
			return "profile " + env + " (" + k + ")"
		}
		return "the default AWS profile"
	}
	return "profile " + p
}
