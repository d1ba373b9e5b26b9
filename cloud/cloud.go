// Over 600 lines, on purpose: this is the one file of shared value types and
// capability interfaces every backend and the UI read; splitting it by concern
// (images, functions, deploys, logs) is issue 19's part 4.

// Package cloud holds what fndeck talks to: plain value types shared by every
// backend, the small capability interfaces each backend opts into, and the
// provider-neutral pieces (addresses, REPORT parsing). Backends live in
// sub-packages (docker, local, aws, gcp) and SDK types never leave them.
// Nothing under cloud/ imports Bubble Tea.
package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors let the UI give a hint instead of a raw SDK string.
// Backends wrap them: fmt.Errorf("listing functions in %s: %w", region, cloud.ErrUnauthenticated).
var (
	ErrNotFound        = errors.New("not found")
	ErrUnauthenticated = errors.New("not authenticated")
	ErrPermission      = errors.New("permission denied")
	ErrThrottled       = errors.New("throttled")
	ErrUnreachable     = errors.New("unreachable")
	ErrInvalid         = errors.New("invalid request")
	ErrConflict        = errors.New("conflict")
	// ErrNeedsConfirmation is returned when an action would create something
	// (an ECR / Artifact Registry repository) that needs --yes or a TUI confirmation.
	ErrNeedsConfirmation = errors.New("needs confirmation")
)

// HintError carries a hint for the user (e.g. "aws sso login --profile prod")
// next to the error. Use cloud.Hint(err) to read one from a wrapped chain.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint wraps err with a hint; nil stays nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: hint}
}

// Hint returns the first hint found in err's chain, or "".
func Hint(err error) string {
	var h *HintError
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}

// ---------- images ----------

// Image is one local image, one per image ID.
type Image struct {
	ID           string    `json:"id"`
	RepoTags     []string  `json:"repo_tags"`
	RepoDigests  []string  `json:"repo_digests"`
	Size         int64     `json:"size"`
	Created      time.Time `json:"created"`
	OS           string    `json:"os,omitempty"`
	Architecture string    `json:"architecture,omitempty"`
	Variant      string    `json:"variant,omitempty"`
	Dangling     bool      `json:"dangling"`
}

// Layer is one entry of an image's history.
type Layer struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
	Size      int64     `json:"size"`
	Comment   string    `json:"comment,omitempty"`
}

// ImageDetail is what inspect + history tell about one image. Env carries
// variable NAMES only: values may be secrets and are never shown.
type ImageDetail struct {
	Image
	Entrypoint   []string          `json:"entrypoint"`
	Cmd          []string          `json:"cmd"`
	WorkingDir   string            `json:"working_dir"`
	User         string            `json:"user,omitempty"`
	EnvNames     []string          `json:"env_names"`
	ExposedPorts []string          `json:"exposed_ports"`
	Labels       map[string]string `json:"labels"`
	Layers       []Layer           `json:"layers"`
	MediaType    string            `json:"media_type,omitempty"`
}

// ImageEvent is one change reported by the engine's event stream.
type ImageEvent struct {
	Action string // pull, tag, untag, delete, import, load, build ...
	ID     string
}

// RemovedImage is one line of an image removal's report.
type RemovedImage struct {
	Untagged string `json:"untagged,omitempty"`
	Deleted  string `json:"deleted,omitempty"`
}

// Images is the local image store (the Docker engine).
type Images interface {
	// Host is the engine address as the user would recognise it ("unix:///var/run/docker.sock").
	Host() string
	// Ping checks the engine answers; the error says why not (wrapping ErrUnreachable).
	Ping(ctx context.Context) error
	// List lists images; all=true includes intermediate images.
	List(ctx context.Context, all bool) ([]Image, error)
	// Inspect returns one image's detail (os/arch included, history included).
	Inspect(ctx context.Context, ref string) (ImageDetail, error)
	// Remove deletes an image; untagged parents are pruned; an image in use is
	// refused with the engine's reason (ErrConflict wrapped).
	Remove(ctx context.Context, ref string, force bool) ([]RemovedImage, error)
	// Events streams image events until ctx ends or the connection is lost;
	// the error channel receives exactly one value (nil on ctx end) and then
	// both channels are closed.
	Events(ctx context.Context) (<-chan ImageEvent, <-chan error)
}

// ---------- task output ----------

// Progress is one update of a progress bar (a pushed layer, a build step).
type Progress struct {
	ID      string // bar identity, e.g. layer digest
	Status  string // "Pushing", "Pushed", "Layer already exists", ...
	Current int64
	Total   int64 // 0 when unknown
}

// Sink receives the output of a long action. Text comes from outside
// (build output, registry messages) and is sanitized by whoever shows it;
// a Sink must be safe for concurrent use.
type Sink interface {
	Line(text string)
	Progress(p Progress)
}

// DiscardSink drops everything.
type DiscardSink struct{}

func (DiscardSink) Line(string)       {}
func (DiscardSink) Progress(Progress) {}

// ---------- build and push ----------

// BuildOptions describes one image build.
type BuildOptions struct {
	ContextDir string
	Dockerfile string // relative to ContextDir unless absolute; default "Dockerfile"
	Tags       []string
	Platform   string // "linux/amd64", "linux/arm64" or ""
	BuildArgs  map[string]string
	NoCache    bool
	Target     string // the Dockerfile stage to build; "" for the last
}

// BuildResult is what a successful build produced.
type BuildResult struct {
	ImageID      string   `json:"image_id"`
	Tags         []string `json:"tags"`
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
}

// Builder builds images.
type Builder interface {
	Build(ctx context.Context, opts BuildOptions, out Sink) (BuildResult, error)
}

// PushOptions: Ref is a local image reference; To, when set, is the remote
// reference to tag and push as.
type PushOptions struct {
	Ref string
	To  string
}

// PushResult is what the registry holds after a push.
type PushResult struct {
	Ref       string `json:"ref"`
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size,omitempty"`
}

// Pusher pushes images to registries.
type Pusher interface {
	Push(ctx context.Context, opts PushOptions, out Sink) (PushResult, error)
}

// RegistryAuth is a credential for one registry. It is a secret: never log or print it.
type RegistryAuth struct {
	Username      string
	Password      string
	IdentityToken string
	ServerAddress string
	Expires       time.Time // zero when unknown
}

// AuthProvider resolves credentials for a registry host. ok=false means
// "not mine, ask the next provider"; an error means "mine, but I could not
// get credentials" and hands the host on to the next provider too. Cloud
// backends (ECR, Artifact Registry) plug in here; the docker config file is
// the last provider in the chain.
type AuthProvider interface {
	AuthFor(ctx context.Context, host string) (auth RegistryAuth, ok bool, err error)
}

// AuthNamer is implemented by providers that name themselves in the error
// listing every provider tried ("aws ecr", "docker config").
type AuthNamer interface {
	AuthName() string
}

// AuthChain asks each provider in order.
type AuthChain []AuthProvider

// AuthLister is a provider made of providers (an AuthChain, a chain filled
// in later): TryAuth walks them one by one.
type AuthLister interface {
	AuthProviders() []AuthProvider
}

// AuthProviders implements AuthLister.
func (c AuthChain) AuthProviders() []AuthProvider { return c }

// AuthFor returns the first credentials a provider gives. A provider that
// fails hands the host on to the next; when none gives any and some failed,
// the error lists each failure.
func (c AuthChain) AuthFor(ctx context.Context, host string) (RegistryAuth, bool, error) {
	var tried []string
	var last error
	for _, p := range c {
		a, ok, err := p.AuthFor(ctx, host)
		if err != nil {
			tried = append(tried, AuthProviderName(p)+": "+err.Error())
			last = err
			continue
		}
		if ok {
			return a, true, nil
		}
	}
	if last != nil {
		return RegistryAuth{}, true, &AuthError{Host: host, Tried: tried, Err: last}
	}
	return RegistryAuth{}, false, nil
}

// AuthProviderName is p's AuthName, or its Go type.
func AuthProviderName(p AuthProvider) string {
	if n, ok := p.(AuthNamer); ok {
		return n.AuthName()
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", p), "*")
}

// AuthError says that no provider's credentials for Host worked: Tried has
// one entry per provider tried and why it failed (never a secret). It
// unwraps to the last failure, so errors.Is and Hint see its class and hint.
type AuthError struct {
	Host  string
	Tried []string
	Err   error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("registry %s: no credentials worked; tried %s", e.Host, strings.Join(e.Tried, "; "))
}

func (e *AuthError) Unwrap() error { return e.Err }

// AuthRefused reports whether err is a registry's refusal of the
// credentials sent (401 or 403): the next provider's may be accepted.
func AuthRefused(err error) bool {
	return errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrPermission)
}

// TryAuth runs try with each provider's credentials for the first host in
// turn, then for the other hosts (a registry reached through
// registries.rewrite: the host named, then the host dialled), nested chains
// flattened: a provider whose AuthFor fails, or whose credentials try
// reports refused (AuthRefused), hands the host on to the next; a provider
// without credentials for a host is skipped. When no provider answered, or
// every answer failed, try runs once more without credentials (a=nil,
// by=nil): public images need none. Any other error of try ends the walk as
// it is. When all fail, the error is an *AuthError naming each provider
// tried and why.
func TryAuth(ctx context.Context, p AuthProvider, hosts []string, try func(a *RegistryAuth, by AuthProvider) error) error {
	var tried []string
	var last error
	var walk func(p AuthProvider, host string) (bool, error)
	walk = func(p AuthProvider, host string) (bool, error) {
		if l, ok := p.(AuthLister); ok {
			for _, q := range l.AuthProviders() {
				if done, err := walk(q, host); done {
					return true, err
				}
			}
			return false, nil
		}
		if p == nil {
			return false, nil
		}
		a, ok, err := p.AuthFor(ctx, host)
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			tried = append(tried, AuthProviderName(p)+": "+err.Error())
			last = err
			return false, nil
		}
		if !ok {
			tried = append(tried, AuthProviderName(p)+": has none for "+host)
			return false, nil
		}
		err = try(&a, p)
		if err == nil || !AuthRefused(err) {
			return true, err
		}
		tried = append(tried, AuthProviderName(p)+": "+err.Error())
		last = err
		return false, nil
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h] {
			continue
		}
		seen[h] = true
		if done, err := walk(p, h); done {
			return err
		}
	}
	err := try(nil, nil)
	if err == nil || !AuthRefused(err) || last == nil {
		return err
	}
	tried = append(tried, "no credentials: "+err.Error())
	host := ""
	if len(hosts) > 0 {
		host = hosts[0]
	}
	return &AuthError{Host: host, Tried: tried, Err: last}
}

// ---------- functions ----------

// Traffic is one entry of a Cloud Run traffic split.
type Traffic struct {
	Revision string `json:"revision"`
	Percent  int    `json:"percent"`
	Tag      string `json:"tag,omitempty"`
	Latest   bool   `json:"latest,omitempty"`
}

// Function is a deployed function or service, whatever the provider.
// Fields that do not apply stay zero and are omitted from JSON.
type Function struct {
	Address             string     `json:"address"`
	Provider            Provider   `json:"provider"`
	Name                string     `json:"name"`
	Region              string     `json:"region,omitempty"`
	Account             string     `json:"account,omitempty"`
	Profile             string     `json:"profile,omitempty"`
	Project             string     `json:"project,omitempty"`
	PackageType         string     `json:"package_type,omitempty"` // Image | Zip
	ImageURI            string     `json:"image_uri,omitempty"`
	ResolvedImageURI    string     `json:"resolved_image_uri,omitempty"`
	Architecture        string     `json:"architecture,omitempty"`
	MemoryMB            int        `json:"memory_mb,omitempty"`
	TimeoutS            int        `json:"timeout_s,omitempty"`
	State               string     `json:"state,omitempty"`
	LastUpdateStatus    string     `json:"last_update_status,omitempty"`
	StatusReason        string     `json:"status_reason,omitempty"`
	URL                 string     `json:"url,omitempty"`
	LatestReadyRevision string     `json:"latest_ready_revision,omitempty"`
	Traffic             []Traffic  `json:"traffic,omitempty"`
	Ready               *bool      `json:"ready,omitempty"`
	ReadyMessage        string     `json:"ready_message,omitempty"`
	LastModified        *time.Time `json:"last_modified,omitempty"`
	// Mode is the local target's platform flavour: "lambda" or "cloudrun".
	Mode string `json:"mode,omitempty"`
	// FunctionURL is the HTTP address that reaches a Lambda function the
	// way its function URL does (local --as lambda --http).
	FunctionURL string `json:"function_url,omitempty"`
	// ImageDigest is the manifest digest the function runs (sha256:…; a
	// local function: the image ID); "" while unknown.
	ImageDigest string `json:"image_digest,omitempty"`
	// SourceRef is the reference fndeck deployed it from (Lambda tag
	// fndeck:source, Cloud Run annotation / local label fndeck.dev/source).
	SourceRef string `json:"source_ref,omitempty"`
	// Lineage relates what it runs to the local images; nil until joined.
	Lineage *Lineage `json:"lineage,omitempty"`
	// Partial is true while fields that need a second call (GetFunction) are missing.
	Partial bool `json:"-"`
}

// Lineage states of a function: does it run a local image?
const (
	LineageLocal    = "local"     // it runs a local image (LocalImage)
	LineageNotLocal = "not_local" // it runs nothing found locally
	LineageUnknown  = "unknown"   // the digest it runs is not known (Error says why)
)

// States of a function's source tag check (Lineage.Tag).
const (
	TagSame    = "same"    // the tag still names what the function runs
	TagMoved   = "moved"   // the tag names another digest now
	TagUnknown = "unknown" // the tag could not be resolved (Error says why)
)

// Lineage says whether a function runs an image held locally and whether
// the tag it was deployed from still names what it runs.
type Lineage struct {
	Status string `json:"status"`
	// LocalImage names the local image it runs (a repo:tag, else a short ID).
	LocalImage   string `json:"local_image,omitempty"`
	LocalImageID string `json:"local_image_id,omitempty"`
	TagMoved     bool   `json:"tag_moved"`
	// Tag is the source tag check's state; "" when there is no tag to
	// check (no source recorded, or a source pinned by digest).
	Tag string `json:"tag,omitempty"`
	// TagDigest is what the source tag names now, when it was resolved.
	TagDigest string `json:"tag_digest,omitempty"`
	// Error says why the status or the tag is unknown (a registry or
	// describe error).
	Error string `json:"error,omitempty"`
}

// Unknown reports whether something about the lineage could not be learnt.
func (l *Lineage) Unknown() bool {
	return l == nil || l.Status == LineageUnknown || l.Tag == TagUnknown
}

// Drift reports whether the function's tag moved or it runs nothing local.
func (l *Lineage) Drift() bool {
	return l != nil && (l.TagMoved || l.Status == LineageNotLocal)
}

// Group identifies one independently loading source of functions:
// provider → scope (AWS account/profile, GCP project, "local") → region.
type Group struct {
	Provider Provider `json:"provider"`
	Scope    string   `json:"scope"`  // "prod (123456789012)", "acme-web", "docker"
	Region   string   `json:"region"` // "" when the provider has none
}

// GroupResult is one source's answer: its functions or its error and hint.
type GroupResult struct {
	Group     Group
	Functions []Function
	Err       error
	Hint      string
}

// ListFilter narrows a listing (CLI --provider/--region/--project/--profile).
type ListFilter struct {
	Regions  []string
	Projects []string
	Profiles []string
}

// Lister lists functions. List calls emit once per source as each completes
// (emit may be called from several goroutines; the caller synchronizes) and
// returns when every source has answered or ctx ends. A source that fails is
// an emitted GroupResult with Err set, never a returned error; the returned
// error is for a failure before any source could be tried.
type Lister interface {
	Provider() Provider
	List(ctx context.Context, f ListFilter, emit func(GroupResult)) error
}

// Describer returns one function with every field filled (Lambda GetFunction).
type Describer interface {
	Describe(ctx context.Context, target Address) (Function, error)
}

// DeployRequest describes one deploy. Image is a local image or a registry
// reference; the backend pushes/copies it to the target's registry first
// when the platform cannot pull it from where it is, and says so on out.
type DeployRequest struct {
	Target   Address
	Image    string
	Create   bool
	Yes      bool // may create a registry repository without asking
	Role     string
	MemoryMB int
	TimeoutS int
	Arch     string // x86_64 | arm64
	Port     int
	Env      map[string]string
	As       string // local: lambda | cloudrun
	// ImageConfig overrides the image's entrypoint, command and working
	// directory (one image serving several handlers); nil keeps the image's.
	ImageConfig *ImageConfig `json:",omitempty"`
	// HTTP (local --as lambda) also serves the function on an HTTP port
	// the way a Lambda function URL does (package lambdaurl).
	HTTP bool
}

// ImageConfig is what a function runs in its image instead of the image's
// own ENTRYPOINT, CMD and WORKDIR. Empty fields keep the image's value.
type ImageConfig struct {
	Command    []string `json:"command,omitempty"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Workdir    string   `json:"workdir,omitempty"`
}

// IsZero reports an ImageConfig that overrides nothing.
func (c *ImageConfig) IsZero() bool {
	return c == nil || len(c.Command) == 0 && len(c.Entrypoint) == 0 && c.Workdir == ""
}

// DeploySettings are the settings a deploy changes besides the image, as
// they stand after it (or before it, in DeployResult.OldSettings), so a
// rollback restores them with the image. Env holds values: it is kept in
// the 0600 history file and must be cleared (Redacted) before printing.
type DeploySettings struct {
	Env      map[string]string `json:"env,omitempty"`
	MemoryMB int               `json:"memory_mb,omitempty"`
	TimeoutS int               `json:"timeout_s,omitempty"`
	Arch     string            `json:"arch,omitempty"`
	Port     int               `json:"port,omitempty"`
	Mode     string            `json:"mode,omitempty"` // local: lambda | cloudrun
	// ImageConfig is the entrypoint/command/workdir override the deploy set
	// (local keeps it so a rollback restores it).
	ImageConfig *ImageConfig `json:"image_config,omitempty"`
}

// DeployResult records what a deploy changed, for history and rollback.
type DeployResult struct {
	Target   string `json:"target"`
	OldImage string `json:"old_image,omitempty"`
	// OldImageDigest is the digest (local: image ID) of what served
	// before, when known: a rollback past the first deploy restores it.
	OldImageDigest string `json:"old_image_digest,omitempty"`
	// NewImage is what the platform now runs: a digest reference
	// (repo@sha256:…) when one is known (local: the reference given, with
	// the image ID in ImageDigest).
	NewImage string `json:"new_image"`
	// ImageRef is the reference the user gave; ImageDigest the digest (or
	// local image ID) it resolved to and that now serves.
	ImageRef    string `json:"image_ref,omitempty"`
	ImageDigest string `json:"image_digest,omitempty"`
	// Revision is the provider's identity of what now serves: Lambda version,
	// Cloud Run revision, local container ID.
	Revision    string `json:"revision,omitempty"`
	OldRevision string `json:"old_revision,omitempty"`
	Created     bool   `json:"created,omitempty"`
	// NoOp is set when nothing had to change (the target already served this
	// image with these settings): such a deploy is not a rollback point.
	NoOp bool `json:"no_op,omitempty"`
	// Settings are the settings serving after the deploy; OldSettings those
	// serving before it (nil when unknown). Rollback restores them.
	Settings    *DeploySettings `json:"settings,omitempty"`
	OldSettings *DeploySettings `json:"old_settings,omitempty"`
	// FunctionURL is the function URL that now serves (local --http).
	FunctionURL string `json:"function_url,omitempty"`
}

// Redacted returns a copy fit for printing: environment values are
// replaced by "…" (they may be secrets), names are kept.
func (r DeployResult) Redacted() DeployResult {
	r.Settings, r.OldSettings = r.Settings.redacted(), r.OldSettings.redacted()
	return r
}

func (s *DeploySettings) redacted() *DeploySettings {
	if s == nil {
		return nil
	}
	c := *s
	if len(s.Env) > 0 {
		c.Env = make(map[string]string, len(s.Env))
		for k := range s.Env {
			c.Env[k] = "…"
		}
	}
	return &c
}

// ErrNothingToDo wraps the error of a rollback that would change nothing
// (the target already serves what it would restore).
var ErrNothingToDo = errors.New("nothing to do")

// ResolvedImage is what a registry reference resolves to for one platform.
type ResolvedImage struct {
	// Digest is the manifest digest the platform will run (sha256:…): the
	// platform's child when the reference names an index.
	Digest    string
	MediaType string
	// Repository is the reference without tag or digest (HOST/REPO), so
	// Repository+"@"+Digest pins the image.
	Repository string
	// Index is the digest of the image index the reference named when
	// Digest is one of its children ("" for a single-platform manifest);
	// Platforms lists the runnable platforms that index has.
	Index     string
	Platforms []string
	// Platform is the resolved image's "os/arch[/variant]" when known
	// (asked for a platform: from the index, or the image's config).
	Platform string
}

// Pinned returns Repository@Digest.
func (r ResolvedImage) Pinned() string { return r.Repository + "@" + r.Digest }

// DigestResolver resolves a registry reference (tag or digest) to the
// manifest digest a platform ("linux/amd64", "linux/arm64") will run: an
// index's child for it, or an index without one refused (ErrInvalid, naming
// the platforms it has). platform "" returns what the reference names as it
// is, which is how a rollback checks its digest still exists (ErrNotFound). The go-containerregistry backed
// registry package implements it; backends take one in their Options and
// deploy as given (without a digest) when none is set.
type DigestResolver interface {
	Resolve(ctx context.Context, ref string, platform string) (ResolvedImage, error)
}

// Deployer deploys images to targets.
type Deployer interface {
	Deploy(ctx context.Context, req DeployRequest, out Sink) (DeployResult, error)
}

// RollBacker returns a target to a previous deploy (from fndeck's history).
type RollBacker interface {
	Rollback(ctx context.Context, target Address, to DeployResult, out Sink) (DeployResult, error)
}

// StackResource names one resource of a deployed CloudFormation stack, as
// a SAM template's logical ID.
type StackResource struct {
	Profile   string `json:"profile,omitempty"`
	Region    string `json:"region"`
	Stack     string `json:"stack"`
	LogicalID string `json:"logical_id"`
}

// StackResolver finds the physical ID of a deployed stack's resource: the
// generated name of a SAM function that has no FunctionName (AWS).
type StackResolver interface {
	StackResource(ctx context.Context, r StackResource) (string, error)
}

// Remover removes a function (local targets).
type Remover interface {
	Remove(ctx context.Context, target Address) error
}

// InvokeRequest is one invocation. Method/Path/Headers apply to HTTP targets.
type InvokeRequest struct {
	Target  Address
	Payload []byte
	Method  string
	Path    string
	Headers http.Header
	Cold    bool
}

// Report holds a REPORT line's figures.
type Report struct {
	DurationMS  float64 `json:"duration_ms"`
	BilledMS    float64 `json:"billed_ms"`
	InitMS      float64 `json:"init_ms,omitempty"`
	MemoryMB    int     `json:"memory_mb"`
	MaxMemoryMB int     `json:"max_memory_mb"`
	RequestID   string  `json:"-"`
	Status      string  `json:"status,omitempty"` // e.g. "timeout" from the JSON platform.report
}

// InvokeResult is the outcome of an invocation.
type InvokeResult struct {
	Address       string          `json:"address"`
	StatusCode    int             `json:"status_code"`
	FunctionError string          `json:"function_error,omitempty"`
	Response      json.RawMessage `json:"response,omitempty"` // JSON when the body is JSON, else a JSON string
	Body          []byte          `json:"-"`                  // raw body
	Headers       http.Header     `json:"headers,omitempty"`
	LogTail       string          `json:"log_tail,omitempty"`
	Report        *Report         `json:"report,omitempty"`
	RequestID     string          `json:"request_id,omitempty"`
	ElapsedMS     float64         `json:"elapsed_ms,omitempty"`
	TimedOut      bool            `json:"timed_out,omitempty"`
	// CostUSD and CostPerMillionUSD estimate what this invocation (and a
	// million like it) costs at list prices (package pricing); nil when
	// not estimated, with CostNote saying why, or what the figure rests on.
	CostUSD           *float64 `json:"cost_usd,omitempty"`
	CostPerMillionUSD *float64 `json:"cost_per_million_usd,omitempty"`
	CostNote          string   `json:"cost_note,omitempty"`
}

// Invoker invokes functions. chunk, when not nil, is called with each piece of
// a streamed response as it arrives (the full body is still in the result).
type Invoker interface {
	Invoke(ctx context.Context, req InvokeRequest, chunk func([]byte)) (InvokeResult, error)
}

// LogRequest asks for a target's logs.
type LogRequest struct {
	Target Address
	Since  time.Time
	Follow bool
	Filter string // literal substring, every provider
	Query  string // provider syntax (CloudWatch pattern, Cloud Logging filter)
	// Tail, when > 0, keeps only the last Tail events of the history before
	// following. With Since zero the history is the last Tail events
	// whatever their age (every provider honours it), so logs open on the
	// latest events even when the function last ran days ago; with Since
	// set it is the last Tail events since then. A log pane opened during
	// a flood shows recent context, not a replay.
	Tail int
}

// WaitingNotice is the notice a follow emits while the function has no logs
// yet (a Lambda never invoked has no log group; a new Cloud Run service no
// entries); the follow keeps waiting and shows the first lines once they
// exist.
const WaitingNotice = "waiting for the first invocation"

// DefaultLogTail is how many of the newest events a request with neither
// Since nor Tail reads (PRODUCT.md's logs.tail default).
const DefaultLogTail = 200

// LogLine is one log event. Message is raw text from outside.
type LogLine struct {
	Time     time.Time       `json:"time"`
	Address  string          `json:"address"`
	Stream   string          `json:"stream,omitempty"`
	Severity string          `json:"severity,omitempty"`
	Message  string          `json:"message"`
	JSON     json.RawMessage `json:"json,omitempty"`
	ID       string          `json:"-"` // provider event ID, for de-duplication
	// Notice marks a line fndeck itself emits about the stream
	// (sampling, suppressed entries, reconnecting).
	Notice bool `json:"notice,omitempty"`
}

// LogTailer reads logs. Without Follow it emits what matches Since and
// returns; with Follow it keeps emitting until ctx ends. emit is called
// from one goroutine at a time.
type LogTailer interface {
	Logs(ctx context.Context, req LogRequest, emit func(LogLine)) error
}
