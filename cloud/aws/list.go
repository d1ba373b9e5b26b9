package aws

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fndeck/fndeck/cloud"
)

// partitionRegions is the aws partition's region list, used for "all" when
// the Account API cannot be asked (no permission, or an endpoint without it).
var partitionRegions = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
	"mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// sameAccountGrace bounds how long a listed group waits for slower profiles
// to resolve before it is shown (see List).
const sameAccountGrace = 250 * time.Millisecond

// resolvedProfile is one configured profile after its account is known.
type resolvedProfile struct {
	name    string
	account string
	regions []string
	err     error
}

// List lists functions for every profile × region and emits one GroupResult
// per account × region as soon as ListFunctions has paged through it (rows
// Partial unless Options.DescribeAll). Each profile is resolved to its
// account (STS, cached) on its own; two profiles on one account and region
// are listed once, under a scope naming both ("dev, ops (123456789012)").
// A profile or region that fails is an emitted group with Err and Hint.
func (b *Backend) List(ctx context.Context, f cloud.ListFilter, emit func(cloud.GroupResult)) error {
	profiles, err := b.profileNames(f.Profiles)
	if err != nil {
		return err
	}
	rank := map[string]int{}
	for i, n := range profiles {
		rank[n] = i
	}
	type work struct {
		names   []string // profiles on this account, in the order they resolved
		account string
		region  string
	}
	var mu sync.Mutex
	claimed := map[string]*work{}
	var wg sync.WaitGroup
	// Each profile resolves and lists on its own, so a slow or failing one
	// never holds back the others' calls. Only the emit of a listed group
	// waits (at most sameAccountGrace) for the other profiles to resolve, so
	// that profiles sharing the account are named together.
	allResolved := make(chan struct{})
	var resolving sync.WaitGroup
	resolving.Add(len(profiles))
	go func() { resolving.Wait(); close(allResolved) }()
	for _, name := range profiles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rp := b.resolveProfile(ctx, name, f.Regions)
			if rp.err != nil {
				resolving.Done()
				if ctx.Err() != nil {
					return
				}
				regions := rp.regions
				if len(regions) == 0 {
					regions = []string{""}
				}
				for _, r := range regions {
					emit(cloud.GroupResult{
						Group: cloud.Group{Provider: cloud.AWS, Scope: scopeLabel([]string{rp.name}, rp.account), Region: r},
						Err:   rp.err, Hint: cloud.Hint(rp.err),
					})
				}
				return
			}
			for _, r := range rp.regions {
				key := rp.account + "/" + r
				mu.Lock()
				if w, ok := claimed[key]; ok {
					w.names = append(w.names, name)
					mu.Unlock()
					continue
				}
				w := &work{names: []string{name}, account: rp.account, region: r}
				claimed[key] = w
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					fns, err := b.listGroup(ctx, name, w.account, w.region)
					grace := time.NewTimer(sameAccountGrace)
					select {
					case <-allResolved:
					case <-grace.C:
					case <-ctx.Done():
					}
					grace.Stop()
					if ctx.Err() != nil {
						return
					}
					mu.Lock()
					names := slices.Clone(w.names)
					mu.Unlock()
					// Label the rows with the first configured profile on the
					// account, whichever one happened to list them.
					slices.SortFunc(names, func(a, c string) int { return rank[a] - rank[c] })
					if names[0] != name {
						for i := range fns {
							fns[i].Profile = names[0]
							fns[i].Address = addressOf(names[0], fns[i].Region, fns[i].Name)
						}
					}
					g := cloud.Group{Provider: cloud.AWS, Scope: scopeLabel(names, w.account), Region: w.region}
					emit(cloud.GroupResult{Group: g, Functions: fns, Err: err, Hint: cloud.Hint(err)})
				}()
			}
			// Only now is this profile's name on every account×region it
			// shares: a group that waits for allResolved must see it.
			resolving.Done()
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func displayProfile(p string) string {
	if p == "" {
		// The default chain: name the profile the environment selects.
		if env := effectiveProfile(""); env != "" {
			return env
		}
		return "default"
	}
	return p
}

// scopeLabel is "PROFILE (ACCOUNT)", profiles sharing an account joined.
func scopeLabel(names []string, acct string) string {
	ds := make([]string, len(names))
	for i, n := range names {
		ds[i] = displayProfile(n)
	}
	s := strings.Join(ds, ", ")
	if acct != "" {
		s += " (" + acct + ")"
	}
	return s
}

// resolveProfile learns a profile's account and the regions to list.
func (b *Backend) resolveProfile(ctx context.Context, name string, filterRegions []string) resolvedProfile {
	rp := resolvedProfile{name: name}
	regions := filterRegions
	if len(regions) == 0 {
		regions = b.opts.Regions
	}
	all := slices.Contains(regions, "all")
	// A session the files already show expired fails here, at once and
	// without a call, with the command that logs in again.
	if region, err := b.sessionError(name); err != nil {
		rp.err = err
		switch {
		case all:
		case len(regions) > 0:
			rp.regions = regions
		case region != "":
			rp.regions = []string{region}
		}
		return rp
	}
	cfg, err := b.config(ctx, b.profile(name))
	if err != nil {
		rp.err = err
		if !all {
			rp.regions = regions
		}
		return rp
	}
	if len(regions) == 0 {
		if cfg.Region == "" {
			rp.err = cloud.WithHint(fmt.Errorf("%s has no region: %w", profileLabel(name), cloud.ErrInvalid),
				"set aws.regions in the config, or a region for the profile (aws configure"+profileFlag(name)+")")
			return rp
		}
		regions = []string{cfg.Region}
	}
	if !all {
		rp.regions = regions
	}
	// The account (STS) and the enabled regions (Account API) are
	// independent: ask both at once, one round trip instead of two.
	var enabled chan []string
	if all {
		enabled = make(chan []string, 1)
		go func() { enabled <- withNamed(b.enabledRegions(ctx, name, regions), regions) }()
	}
	acct, err := b.account(ctx, name, firstRegion(regions, cfg.Region))
	if all {
		rp.regions = <-enabled
	}
	if err != nil {
		// One error row for the profile, not one per guessed region.
		if all {
			rp.regions = nil
		}
		rp.err = err
		return rp
	}
	rp.account = acct
	return rp
}

func firstRegion(regions []string, fallback string) string {
	for _, r := range regions {
		if r != "all" {
			return r
		}
	}
	return fallback
}

// enabledRegions asks the Account API for the account's enabled regions and
// falls back to the partition's default-enabled regions (and the opt-in
// ones named) when it cannot.
func (b *Backend) enabledRegions(ctx context.Context, profile string, named []string) []string {
	client, err := b.accountClient(ctx, profile)
	if err != nil {
		return fallbackRegions(named)
	}
	var regions []string
	p := account.NewListRegionsPaginator(client, &account.ListRegionsInput{
		RegionOptStatusContains: []accttypes.RegionOptStatus{accttypes.RegionOptStatusEnabled, accttypes.RegionOptStatusEnabledByDefault},
	})
	for p.HasMorePages() {
		var out *account.ListRegionsOutput
		err := b.call(ctx, nil, func() error {
			var e error
			out, e = p.NextPage(ctx)
			return e
		})
		if err != nil {
			return fallbackRegions(named)
		}
		for _, r := range out.Regions {
			if n := sdkaws.ToString(r.RegionName); n != "" {
				regions = append(regions, n)
			}
		}
	}
	if len(regions) == 0 {
		return fallbackRegions(named)
	}
	slices.Sort(regions)
	return regions
}

// profileNames expands the configured (or filtered) profiles; "all" reads
// the section names of the shared config and credentials files.
func (b *Backend) profileNames(filter []string) ([]string, error) {
	names := filter
	if len(names) == 0 {
		names = b.opts.Profiles
	}
	if len(names) == 0 {
		return []string{""}, nil
	}
	if !slices.Contains(names, "all") {
		return dedupe(names), nil
	}
	found, err := sharedProfiles()
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, cloud.WithHint(fmt.Errorf("aws.profiles is \"all\" but the shared config files name no profile: %w", cloud.ErrInvalid), "aws configure --profile NAME")
	}
	return found, nil
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// sharedProfiles returns every profile named in the shared config file
// ([profile X], [default]) and the credentials file ([X]), in file order.
func sharedProfiles() ([]string, error) {
	home, _ := os.UserHomeDir()
	cfgFile := os.Getenv("AWS_CONFIG_FILE")
	if cfgFile == "" {
		cfgFile = filepath.Join(home, ".aws", "config")
	}
	credFile := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credFile == "" {
		credFile = filepath.Join(home, ".aws", "credentials")
	}
	var names []string
	add := func(n string) {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, f := range []struct {
		path     string
		isConfig bool
	}{{cfgFile, true}, {credFile, false}} {
		sections, err := iniSections(f.path)
		if err != nil {
			return nil, err
		}
		for _, s := range sections {
			switch {
			case !f.isConfig:
				add(s)
			case s == "default":
				add(s)
			case strings.HasPrefix(s, "profile "):
				add(strings.TrimSpace(strings.TrimPrefix(s, "profile ")))
			}
		}
	}
	return names, nil
}

func iniSections(path string) ([]string, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading AWS profiles: %w", err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			out = append(out, strings.TrimSpace(line[1:len(line)-1]))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}

// listGroup pages through ListFunctions for one account × region and, with
// DescribeAll, fills every row with GetFunction.
func (b *Backend) listGroup(ctx context.Context, profile, acct, region string) ([]cloud.Function, error) {
	rc, err := b.clients(ctx, profile, region)
	if err != nil {
		return nil, err
	}
	lim := b.limiter(acct, region)
	var fns []cloud.Function
	p := lambda.NewListFunctionsPaginator(rc.lambda, &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		var out *lambda.ListFunctionsOutput
		err := b.call(ctx, lim.control, func() error {
			var e error
			out, e = p.NextPage(ctx)
			return e
		})
		if err != nil {
			if e := regionNotEnabled(err, profile, region, acct); e != err {
				return nil, e
			}
			return nil, errorf(profile, "listing functions in %s: %w", region, err)
		}
		for i := range out.Functions {
			fn := fromConfig(&out.Functions[i], profile, region)
			fns = append(fns, fn)
		}
	}
	if b.opts.DescribeAll {
		if err := b.describeAll(ctx, rc, lim, profile, region, fns); err != nil {
			return fns, err
		}
	}
	slices.SortFunc(fns, func(a, c cloud.Function) int { return strings.Compare(a.Name, c.Name) })
	return fns, nil
}

// describeAll fills the partial rows in place, in parallel under the
// account × region GetFunction rate. A row that cannot be described stays
// partial with its lineage unknown and the reason: one function's error
// never fails the listing. Only the end of ctx is returned.
func (b *Backend) describeAll(ctx context.Context, rc *regionClients, lim *limiterPair, profile, region string, fns []cloud.Function) error {
	var wg sync.WaitGroup
	for i := range fns {
		if !fns[i].Partial {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			full, err := b.getFunction(ctx, rc, lim, profile, region, fns[i].Name, "")
			if err != nil {
				if ctx.Err() == nil {
					fns[i].Lineage = &cloud.Lineage{Status: cloud.LineageUnknown, Error: err.Error()}
				}
				return
			}
			fns[i] = full
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("describing functions in %s: %w", region, err)
	}
	return nil
}

// Describe returns one function with every field filled (GetFunction).
func (b *Backend) Describe(ctx context.Context, target cloud.Address) (cloud.Function, error) {
	profile := b.profileFor(target)
	rc, err := b.clients(ctx, profile, target.Region)
	if err != nil {
		return cloud.Function{}, err
	}
	// Describes share the account × region GetFunction rate with listings
	// (the TUI describes every row in the background for lineage).
	var lim *limiterPair
	if acct, err := b.account(ctx, profile, target.Region); err == nil && acct != "" {
		lim = b.limiter(acct, target.Region)
	}
	fn, err := b.getFunction(ctx, rc, lim, profile, target.Region, target.Function, target.Qualifier)
	if err != nil {
		return cloud.Function{}, err
	}
	if target.Profile == "" {
		fn.Profile = ""
		fn.Address = addressOf("", target.Region, fn.Name)
	}
	return fn, nil
}

func (b *Backend) getFunction(ctx context.Context, rc *regionClients, lim *limiterPair, profile, region, name, qualifier string) (cloud.Function, error) {
	out, err := b.getFunctionRaw(ctx, rc, lim, name, qualifier)
	if err != nil {
		return cloud.Function{}, errorf(profile, "describing %s in %s: %w", name, region, err)
	}
	return fromGetFunction(out, profile, region), nil
}

func (b *Backend) getFunctionRaw(ctx context.Context, rc *regionClients, lim *limiterPair, name, qualifier string) (*lambda.GetFunctionOutput, error) {
	in := &lambda.GetFunctionInput{FunctionName: &name}
	if qualifier != "" {
		in.Qualifier = &qualifier
	}
	var out *lambda.GetFunctionOutput
	err := b.call(ctx, limGet(lim), func() error {
		var e error
		out, e = rc.lambda.GetFunction(ctx, in)
		return e
	})
	return out, err
}

func limGet(l *limiterPair) waiter {
	if l == nil {
		return nil
	}
	return l.get
}

func fromGetFunction(out *lambda.GetFunctionOutput, profile, region string) cloud.Function {
	fn := fromConfig(out.Configuration, profile, region)
	if out.Code != nil {
		fn.ImageURI = sdkaws.ToString(out.Code.ImageUri)
		fn.ResolvedImageURI = sdkaws.ToString(out.Code.ResolvedImageUri)
		// fndeck deploys by digest, so ImageUri holds it; a function
		// deployed by tag runs what Lambda resolved the tag to.
		fn.ImageDigest = digestOf(servingImage(out.Code))
	}
	fn.SourceRef = out.Tags[SourceTag]
	fn.Partial = false
	return fn
}

// fromConfig maps a FunctionConfiguration. On the real API ListFunctions
// leaves out State, LastUpdateStatus and the image URI; such rows are Partial.
func fromConfig(c *types.FunctionConfiguration, profile, region string) cloud.Function {
	if c == nil {
		return cloud.Function{Provider: cloud.AWS, Region: region, Profile: profile, Partial: true}
	}
	name := sdkaws.ToString(c.FunctionName)
	fn := cloud.Function{
		Address:          addressOf(profile, region, name),
		Provider:         cloud.AWS,
		Name:             name,
		Region:           region,
		Account:          accountFromARN(sdkaws.ToString(c.FunctionArn)),
		Profile:          profile,
		PackageType:      string(c.PackageType),
		MemoryMB:         int(sdkaws.ToInt32(c.MemorySize)),
		TimeoutS:         int(sdkaws.ToInt32(c.Timeout)),
		State:            string(c.State),
		LastUpdateStatus: string(c.LastUpdateStatus),
	}
	if fn.PackageType == "" {
		fn.PackageType = string(types.PackageTypeZip)
	}
	fn.Architecture = string(types.ArchitectureX8664)
	if len(c.Architectures) > 0 {
		fn.Architecture = string(c.Architectures[0])
	}
	switch {
	case sdkaws.ToString(c.LastUpdateStatusReason) != "" && c.LastUpdateStatus != types.LastUpdateStatusSuccessful:
		fn.StatusReason = sdkaws.ToString(c.LastUpdateStatusReason)
	case sdkaws.ToString(c.StateReason) != "":
		fn.StatusReason = sdkaws.ToString(c.StateReason)
	}
	if lm := sdkaws.ToString(c.LastModified); lm != "" {
		if t, err := time.Parse("2006-01-02T15:04:05.000-0700", lm); err == nil {
			t = t.UTC()
			fn.LastModified = &t
		} else if t, err := time.Parse(time.RFC3339Nano, lm); err == nil {
			t = t.UTC()
			fn.LastModified = &t
		}
	}
	// ListFunctions never carries the image URI, and on AWS not the state either.
	fn.Partial = fn.State == "" || fn.PackageType == string(types.PackageTypeImage)
	return fn
}

func addressOf(profile, region, name string) string {
	return cloud.Address{Provider: cloud.AWS, Profile: profile, Region: region, Function: name}.String()
}

// accountFromARN reads the account field of an ARN (arn:aws:lambda:R:ACCOUNT:function:N).
func accountFromARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}
