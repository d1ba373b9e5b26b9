package aws

// An in-process fake of the parts of AWS fndeck calls, behaving like the real
// API where moto does not: ListFunctions pages by 50 and leaves out State,
// LastUpdateStatus and the image URI; updates pass through InProgress and may
// fail with a LastUpdateStatusReason; Live Tail and InvokeWithResponseStream
// answer in the real application/vnd.amazon.eventstream framing; calls can be
// throttled, failed, or delayed. It is reached through the real SDK clients
// with AWS_ENDPOINT_URL=http://127.0.0.1:PORT.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

type fakeFn struct {
	Name          string
	Account       string
	Region        string
	PackageType   string
	Arch          string
	Memory        int
	Timeout       int
	ImageURI      string
	State         string
	UpdateStatus  string
	UpdateReason  string
	UpdateCode    string
	Version       int
	LogGroup      string
	LogFormat     string
	pendingPolls  int    // GetFunction calls left before an update settles
	failWith      string // reason the pending update fails with ("" = succeeds)
	Aliases       map[string]string
	versions      map[string]string // version → image
	Streams       bool
	StreamChunks  []string
	InvokeBody    string
	InvokeFnError string
	InvokeLog     string
}

type fakeEvent struct {
	ID, Stream, Message string
	TS                  int64
}

type fakeAWS struct {
	t   testing.TB
	srv *httptest.Server

	mu             sync.Mutex
	delay          time.Duration
	accounts       map[string]string // access key → account
	ecrDenied      map[string]bool   // access key → GetAuthorizationToken is denied
	fns            map[string]*fakeFn
	regions        []string
	throttle       map[string]int // "region/op" → number of calls to throttle (-1 forever)
	failFilter     int            // FilterLogEvents calls to fail with 503
	events         map[string][]fakeEvent
	liveTail       []fakeEvent // sent by StartLiveTail
	liveSampled    bool
	liveTailHosts  []string
	calls          map[string]int // op → count
	failUpdateWith map[string]string
	settlePolls    int
	lastPayload    []byte
	repos          map[string]bool // acct/region/repo
	slowKeys       map[string]time.Duration
	gapEvents      map[string][]fakeEvent // moved into events when a Live Tail session starts
	// staleLast overrides the LastEventTime DescribeLogStreams reports for
	// "group|stream": the real service updates it up to an hour late.
	staleLast   map[string]int64
	readBack    []string // the stream of each GetLogEvents call
	inFlight    int
	maxInFlight int
	getTimes    []time.Time   // arrival of each GetFunction
	streamGate  chan struct{} // when set, a streamed invoke waits on it after the first chunk
	// hook, when set, may answer a signed request first (returns true when it did).
	hook func(w http.ResponseWriter, r *http.Request, region, service string) bool
}

func newFakeAWS(t testing.TB) *fakeAWS {
	f := &fakeAWS{
		t:              t,
		accounts:       map[string]string{},
		fns:            map[string]*fakeFn{},
		throttle:       map[string]int{},
		events:         map[string][]fakeEvent{},
		calls:          map[string]int{},
		failUpdateWith: map[string]string{},
		settlePolls:    1,
		repos:          map[string]bool{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// env points the SDK at the fake with the given access key (one per account).
func (f *fakeAWS) denied(accessKey string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ecrDenied[accessKey]
}

func (f *fakeAWS) env(t testing.TB, accessKey string) {
	t.Setenv("AWS_ENDPOINT_URL", f.srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
}

func fnKey(acct, region, name string) string { return acct + "/" + region + "/" + name }

func (f *fakeAWS) add(fn *fakeFn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fn.PackageType == "" {
		fn.PackageType = "Image"
	}
	if fn.Arch == "" {
		fn.Arch = "x86_64"
	}
	if fn.State == "" {
		fn.State = "Active"
	}
	if fn.UpdateStatus == "" {
		fn.UpdateStatus = "Successful"
	}
	if fn.Memory == 0 {
		fn.Memory = 128
	}
	if fn.Timeout == 0 {
		fn.Timeout = 3
	}
	if fn.Aliases == nil {
		fn.Aliases = map[string]string{}
	}
	fn.versions = map[string]string{}
	f.fns[fnKey(fn.Account, fn.Region, fn.Name)] = fn
}

func (f *fakeAWS) fn(acct, region, name string) *fakeFn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fns[fnKey(acct, region, name)]
}

func (f *fakeAWS) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

var reCred = regexp.MustCompile(`Credential=([^/]+)/\d+/([^/]+)/([^/]+)/`)

func (f *fakeAWS) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	d := f.delay
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") && strings.Count(r.URL.Path, "/") == 3 {
		f.getTimes = append(f.getTimes, time.Now())
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if d > 0 {
		time.Sleep(d)
	}
	m := reCred.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		f.apiErr(w, 403, "MissingAuthenticationTokenException", "missing authentication")
		return
	}
	ak, region, service := m[1], m[2], m[3]
	f.mu.Lock()
	acct, ok := f.accounts[ak]
	slow := f.slowKeys[ak]
	f.mu.Unlock()
	if slow > 0 {
		select {
		case <-time.After(slow):
		case <-r.Context().Done():
			return
		}
	}
	if !ok {
		if service == "sts" {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(403)
			_, _ = io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
			return
		}
		f.apiErr(w, 403, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	f.mu.Lock()
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(w, r, region, service) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Logs_20140328."):
		f.logs(w, r, acct, region, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Logs_20140328."), body)
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken") && f.denied(ak):
		f.apiErr(w, 400, "AccessDeniedException", "User is not authorized to perform: ecr:GetAuthorizationToken")
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonEC2ContainerRegistry_V20150921."):
		f.ecr(w, acct, region, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonEC2ContainerRegistry_V20150921."), body)
	case r.URL.Path == "/listRegions":
		f.op("ListRegions")
		regs := []map[string]string{}
		f.mu.Lock()
		for _, rg := range f.regions {
			regs = append(regs, map[string]string{"RegionName": rg, "RegionOptStatus": "ENABLED_BY_DEFAULT"})
		}
		f.mu.Unlock()
		writeJSON(w, map[string]any{"Regions": regs})
	case strings.HasPrefix(r.URL.Path, "/2015-03-31/") || strings.HasPrefix(r.URL.Path, "/2021-"):
		f.lambda(w, r, acct, region, body)
	default:
		form, _ := url.ParseQuery(string(body))
		if form.Get("Action") == "GetCallerIdentity" {
			f.op("GetCallerIdentity")
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/test</Arn><UserId>AIDTEST</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, acct, acct)
			return
		}
		f.apiErr(w, 400, "UnknownOperationException", "unknown operation "+r.Method+" "+r.URL.Path)
	}
}

func (f *fakeAWS) op(name string) {
	f.mu.Lock()
	f.calls[name]++
	f.mu.Unlock()
}

// throttled consumes one throttle credit for region/op.
func (f *fakeAWS) throttled(region, op string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.throttle[region+"/"+op]
	if n == 0 {
		return false
	}
	if n > 0 {
		f.throttle[region+"/"+op] = n - 1
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAWS) apiErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg, "Message": msg})
}

var (
	reFnPath    = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)$`)
	reCodePath  = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/code$`)
	reAliasPath = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/aliases/([^/]+)$`)
	reInvoke    = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations$`)
	reStream    = regexp.MustCompile(`^/2021-11-15/functions/([^/]+)/response-streaming-invocations$`)
	reURL       = regexp.MustCompile(`^/2021-10-31/functions/([^/]+)/url$`)
)

// listConfig is what the real ListFunctions returns for a function: no
// State, no LastUpdateStatus, no reasons, no image URI.
func (fn *fakeFn) listConfig() map[string]any {
	c := map[string]any{
		"FunctionName":  fn.Name,
		"FunctionArn":   fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", fn.Region, fn.Account, fn.Name),
		"PackageType":   fn.PackageType,
		"Architectures": []string{fn.Arch},
		"MemorySize":    fn.Memory,
		"Timeout":       fn.Timeout,
		"LastModified":  "2026-11-20T10:00:00.000+0000",
		"Version":       "$LATEST",
	}
	if fn.LogGroup != "" || fn.LogFormat != "" {
		lc := map[string]any{"LogFormat": "Text", "LogGroup": "/aws/lambda/" + fn.Name}
		if fn.LogGroup != "" {
			lc["LogGroup"] = fn.LogGroup
		}
		if fn.LogFormat != "" {
			lc["LogFormat"] = fn.LogFormat
		}
		c["LoggingConfig"] = lc
	}
	return c
}

func (fn *fakeFn) fullConfig() map[string]any {
	c := fn.listConfig()
	c["State"] = fn.State
	c["LastUpdateStatus"] = fn.UpdateStatus
	if fn.UpdateReason != "" {
		c["LastUpdateStatusReason"] = fn.UpdateReason
		c["LastUpdateStatusReasonCode"] = fn.UpdateCode
	}
	return c
}

func (f *fakeAWS) lambda(w http.ResponseWriter, r *http.Request, acct, region string, body []byte) {
	p := r.URL.EscapedPath()
	unesc := func(s string) string { u, _ := url.PathUnescape(s); return u }
	switch {
	case r.Method == http.MethodGet && (p == "/2015-03-31/functions/" || p == "/2015-03-31/functions"):
		f.op("ListFunctions")
		if f.throttled(region, "ListFunctions") {
			f.apiErr(w, 429, "TooManyRequestsException", "Rate exceeded")
			return
		}
		f.mu.Lock()
		var names []string
		for _, fn := range f.fns {
			if fn.Account == acct && fn.Region == region {
				names = append(names, fn.Name)
			}
		}
		sort.Strings(names)
		start := 0
		if mk := r.URL.Query().Get("Marker"); mk != "" {
			start, _ = strconv.Atoi(mk)
		}
		maxItems := 50 // the real API never returns more than 50 per page
		if mi, _ := strconv.Atoi(r.URL.Query().Get("MaxItems")); mi > 0 && mi < maxItems {
			maxItems = mi
		}
		end := min(start+maxItems, len(names))
		out := []map[string]any{}
		for _, n := range names[start:end] {
			out = append(out, f.fns[fnKey(acct, region, n)].listConfig())
		}
		f.mu.Unlock()
		res := map[string]any{"Functions": out}
		if end < len(names) {
			res["NextMarker"] = strconv.Itoa(end)
		}
		writeJSON(w, res)
	case r.Method == http.MethodPost && p == "/2015-03-31/functions":
		f.op("CreateFunction")
		var in struct {
			FunctionName  string
			PackageType   string
			Role          string
			MemorySize    int
			Timeout       int
			Architectures []string
			Code          struct{ ImageUri string }
		}
		_ = json.Unmarshal(body, &in)
		if f.fn(acct, region, in.FunctionName) != nil {
			f.apiErr(w, 409, "ResourceConflictException", "Function already exist: "+in.FunctionName)
			return
		}
		fn := &fakeFn{Name: in.FunctionName, Account: acct, Region: region, PackageType: in.PackageType, Memory: in.MemorySize, Timeout: in.Timeout, ImageURI: in.Code.ImageUri}
		if len(in.Architectures) > 0 {
			fn.Arch = in.Architectures[0]
		}
		f.add(fn)
		f.mu.Lock()
		fn.State, fn.UpdateStatus, fn.pendingPolls = "Pending", "Successful", f.settlePolls
		c := fn.fullConfig()
		f.mu.Unlock()
		w.WriteHeader(201)
		writeJSON(w, c)
	case reFnPath.MatchString(p) && r.Method == http.MethodGet:
		f.op("GetFunction")
		if f.throttled(region, "GetFunction") {
			f.apiErr(w, 429, "TooManyRequestsException", "Rate exceeded")
			return
		}
		name := unesc(reFnPath.FindStringSubmatch(p)[1])
		f.mu.Lock()
		defer f.mu.Unlock()
		fn := f.fns[fnKey(acct, region, name)]
		if fn == nil {
			f.apiErr(w, 404, "ResourceNotFoundException", "Function not found: "+name)
			return
		}
		if fn.pendingPolls > 0 {
			fn.pendingPolls--
			if fn.pendingPolls == 0 {
				fn.State = "Active"
				if fn.failWith != "" {
					fn.UpdateStatus, fn.UpdateReason, fn.UpdateCode = "Failed", fn.failWith, "ImageAccessDenied"
					fn.failWith = ""
				} else {
					fn.UpdateStatus, fn.UpdateReason, fn.UpdateCode = "Successful", "", ""
				}
			}
		}
		code := map[string]any{"RepositoryType": "ECR"}
		if fn.PackageType == "Image" {
			code["ImageUri"] = fn.ImageURI
			code["ResolvedImageUri"] = fakeResolved(fn.ImageURI)
		} else {
			code = map[string]any{"RepositoryType": "S3", "Location": "https://example.invalid/code.zip"}
		}
		writeJSON(w, map[string]any{"Configuration": fn.fullConfig(), "Code": code})
	case reCodePath.MatchString(p) && r.Method == http.MethodPut:
		f.op("UpdateFunctionCode")
		name := unesc(reCodePath.FindStringSubmatch(p)[1])
		var in struct {
			ImageUri      string
			Publish       bool
			Architectures []string
		}
		_ = json.Unmarshal(body, &in)
		f.mu.Lock()
		defer f.mu.Unlock()
		fn := f.fns[fnKey(acct, region, name)]
		if fn == nil {
			f.apiErr(w, 404, "ResourceNotFoundException", "Function not found: "+name)
			return
		}
		if fn.PackageType != "Image" {
			f.apiErr(w, 400, "InvalidParameterValueException", "Please don't provide ImageUri when updating a function with packageType Zip.")
			return
		}
		if fn.UpdateStatus == "InProgress" {
			f.apiErr(w, 409, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: "+name)
			return
		}
		fn.ImageURI = in.ImageUri
		if len(in.Architectures) > 0 {
			fn.Arch = in.Architectures[0]
		}
		fn.UpdateStatus, fn.UpdateReason, fn.pendingPolls = "InProgress", "", f.settlePolls
		fn.failWith = f.failUpdateWith[in.ImageUri]
		c := fn.fullConfig()
		if in.Publish {
			fn.Version++
			v := strconv.Itoa(fn.Version)
			fn.versions[v] = in.ImageUri
			c["Version"] = v
		}
		writeJSON(w, c)
	case reAliasPath.MatchString(p):
		mm := reAliasPath.FindStringSubmatch(p)
		name, alias := unesc(mm[1]), unesc(mm[2])
		f.mu.Lock()
		defer f.mu.Unlock()
		fn := f.fns[fnKey(acct, region, name)]
		if fn == nil || fn.Aliases[alias] == "" {
			f.apiErr(w, 404, "ResourceNotFoundException", "Alias not found: "+alias)
			return
		}
		if r.Method == http.MethodPut {
			f.calls["UpdateAlias"]++
			var in struct{ FunctionVersion string }
			_ = json.Unmarshal(body, &in)
			fn.Aliases[alias] = in.FunctionVersion
		}
		writeJSON(w, map[string]any{"Name": alias, "FunctionVersion": fn.Aliases[alias],
			"AliasArn": fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s:%s", region, acct, name, alias)})
	case reURL.MatchString(p):
		f.op("GetFunctionUrlConfig")
		fn := f.fn(acct, region, unesc(reURL.FindStringSubmatch(p)[1]))
		if fn == nil || !fn.Streams {
			f.apiErr(w, 404, "ResourceNotFoundException", "The resource you requested does not exist.")
			return
		}
		writeJSON(w, map[string]any{"FunctionUrl": "https://x.lambda-url." + region + ".on.aws/", "InvokeMode": "RESPONSE_STREAM", "AuthType": "AWS_IAM"})
	case reInvoke.MatchString(p):
		f.op("Invoke")
		fn := f.fn(acct, region, unesc(reInvoke.FindStringSubmatch(p)[1]))
		if fn == nil {
			f.apiErr(w, 404, "ResourceNotFoundException", "Function not found")
			return
		}
		f.mu.Lock()
		f.lastPayload = body
		f.mu.Unlock()
		if r.Header.Get("X-Amz-Log-Type") == "Tail" && fn.InvokeLog != "" {
			w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(fn.InvokeLog)))
		}
		if fn.InvokeFnError != "" {
			w.Header().Set("X-Amz-Function-Error", fn.InvokeFnError)
		}
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, fn.InvokeBody)
	case reStream.MatchString(p):
		f.op("InvokeWithResponseStream")
		fn := f.fn(acct, region, unesc(reStream.FindStringSubmatch(p)[1]))
		if fn == nil {
			f.apiErr(w, 404, "ResourceNotFoundException", "Function not found")
			return
		}
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.WriteHeader(200)
		enc := eventstream.NewEncoder()
		fl := w.(http.Flusher)
		f.mu.Lock()
		gate := f.streamGate
		f.mu.Unlock()
		for i, c := range fn.StreamChunks {
			f.event(enc, w, "PayloadChunk", "application/octet-stream", []byte(c))
			fl.Flush()
			if i == 0 && gate != nil {
				select {
				case <-gate:
				case <-time.After(30 * time.Second):
				}
			}
		}
		done := map[string]string{}
		if fn.InvokeLog != "" {
			done["LogResult"] = base64.StdEncoding.EncodeToString([]byte(fn.InvokeLog))
		}
		if fn.InvokeFnError != "" {
			done["ErrorCode"] = fn.InvokeFnError
		}
		b, _ := json.Marshal(done)
		f.event(enc, w, "InvokeComplete", "application/json", b)
		fl.Flush()
	default:
		f.apiErr(w, 404, "UnknownOperationException", "unknown lambda path "+r.Method+" "+p)
	}
}

// event writes one event-stream message.
func (f *fakeAWS) event(enc *eventstream.Encoder, w io.Writer, typ, contentType string, payload []byte) {
	var msg eventstream.Message
	msg.Headers.Set(":message-type", eventstream.StringValue("event"))
	msg.Headers.Set(":event-type", eventstream.StringValue(typ))
	msg.Headers.Set(":content-type", eventstream.StringValue(contentType))
	msg.Payload = payload
	if err := enc.Encode(w, msg); err != nil {
		f.t.Logf("fake: encoding %s: %v", typ, err)
	}
}

func (f *fakeAWS) logs(w http.ResponseWriter, r *http.Request, acct, region, op string, body []byte) {
	f.op(op)
	switch op {
	case "FilterLogEvents":
		f.mu.Lock()
		if f.failFilter > 0 {
			f.failFilter--
			f.mu.Unlock()
			f.apiErr(w, 503, "ServiceUnavailableException", "The service cannot complete the request.")
			return
		}
		f.mu.Unlock()
		var in struct {
			LogGroupName string `json:"logGroupName"`
			StartTime    int64  `json:"startTime"`
			EndTime      int64  `json:"endTime"`
			NextToken    string `json:"nextToken"`
		}
		_ = json.Unmarshal(body, &in)
		f.mu.Lock()
		evs := f.events[in.LogGroupName]
		var match []fakeEvent
		for _, e := range evs {
			if e.TS >= in.StartTime && (in.EndTime == 0 || e.TS <= in.EndTime) {
				match = append(match, e)
			}
		}
		f.mu.Unlock()
		sort.SliceStable(match, func(i, j int) bool { return match[i].TS < match[j].TS })
		start := 0
		if in.NextToken != "" {
			start, _ = strconv.Atoi(in.NextToken)
		}
		end := min(start+2, len(match)) // small pages, so paging is exercised
		out := []map[string]any{}
		for _, e := range match[start:end] {
			out = append(out, map[string]any{"eventId": e.ID, "logStreamName": e.Stream, "message": e.Message, "timestamp": e.TS, "ingestionTime": e.TS})
		}
		res := map[string]any{"events": out}
		if end < len(match) {
			res["nextToken"] = strconv.Itoa(end)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(res)
	case "DescribeLogStreams":
		var in struct {
			LogGroupName string `json:"logGroupName"`
			OrderBy      string `json:"orderBy"`
			Descending   bool   `json:"descending"`
			Limit        int    `json:"limit"`
		}
		_ = json.Unmarshal(body, &in)
		if in.OrderBy != "LastEventTime" || !in.Descending {
			f.apiErr(w, 400, "InvalidParameterException", "fake: only orderBy LastEventTime descending is served")
			return
		}
		f.mu.Lock()
		last := map[string]int64{}
		for _, e := range f.events[in.LogGroupName] {
			last[e.Stream] = max(last[e.Stream], e.TS)
		}
		for name := range last {
			if ts, ok := f.staleLast[in.LogGroupName+"|"+name]; ok {
				last[name] = ts
			}
		}
		f.mu.Unlock()
		names := make([]string, 0, len(last))
		for name := range last {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool { return last[names[i]] > last[names[j]] })
		if in.Limit > 0 && len(names) > in.Limit {
			names = names[:in.Limit]
		}
		out := []map[string]any{}
		for _, name := range names {
			out = append(out, map[string]any{"logStreamName": name, "lastEventTimestamp": last[name], "creationTime": last[name]})
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"logStreams": out})
	case "GetLogEvents":
		// Backward reading only, as fndeck does: pages of Limit events,
		// oldest first within a page; the token is "b/INDEX" of the oldest
		// event returned, and repeats at the stream's start.
		var in struct {
			LogGroupName  string `json:"logGroupName"`
			LogStreamName string `json:"logStreamName"`
			StartFromHead bool   `json:"startFromHead"`
			Limit         int    `json:"limit"`
			NextToken     string `json:"nextToken"`
		}
		_ = json.Unmarshal(body, &in)
		if in.StartFromHead {
			f.apiErr(w, 400, "InvalidParameterException", "fake: only startFromHead=false is served")
			return
		}
		f.mu.Lock()
		f.readBack = append(f.readBack, in.LogStreamName)
		var evs []fakeEvent
		for _, e := range f.events[in.LogGroupName] {
			if e.Stream == in.LogStreamName {
				evs = append(evs, e)
			}
		}
		f.mu.Unlock()
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].TS < evs[j].TS })
		end := len(evs)
		if in.NextToken != "" {
			end, _ = strconv.Atoi(strings.TrimPrefix(in.NextToken, "b/"))
		}
		limit := in.Limit
		if limit <= 0 {
			limit = 10000
		}
		start := max(end-limit, 0)
		out := []map[string]any{}
		for _, e := range evs[start:end] {
			out = append(out, map[string]any{"message": e.Message, "timestamp": e.TS, "ingestionTime": e.TS})
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"events": out, "nextBackwardToken": fmt.Sprintf("b/%d", start), "nextForwardToken": fmt.Sprintf("f/%d", end)})
	case "StartLiveTail":
		if f.throttled(region, "StartLiveTail") {
			f.apiErr(w, 400, "LimitExceededException", "too many live tail sessions")
			return
		}
		var in struct {
			LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
		}
		_ = json.Unmarshal(body, &in)
		f.mu.Lock()
		f.liveTailHosts = append(f.liveTailHosts, r.Host)
		// Events that land while the session is being set up: only a
		// catch-up poll can show them.
		for g, evs := range f.gapEvents {
			f.events[g] = append(f.events[g], evs...)
		}
		f.gapEvents = nil
		events := append([]fakeEvent(nil), f.liveTail...)
		sampled := f.liveSampled
		f.mu.Unlock()
		for _, id := range in.LogGroupIdentifiers {
			if !strings.HasPrefix(id, "arn:aws:logs:"+region+":"+acct+":log-group:") {
				f.apiErr(w, 400, "InvalidParameterException", "log group identifier must be an ARN with the account ID: "+id)
				return
			}
		}
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.WriteHeader(200)
		enc := eventstream.NewEncoder()
		fl := w.(http.Flusher)
		f.event(enc, w, "initial-response", "application/json", []byte("{}"))
		start, _ := json.Marshal(map[string]any{"requestId": "req", "sessionId": "sess", "logGroupIdentifiers": in.LogGroupIdentifiers})
		f.event(enc, w, "sessionStart", "application/json", start)
		fl.Flush()
		results := []map[string]any{}
		for _, e := range events {
			results = append(results, map[string]any{"logStreamName": e.Stream, "logGroupIdentifier": in.LogGroupIdentifiers[0], "message": e.Message, "timestamp": e.TS, "ingestionTime": e.TS})
		}
		upd, _ := json.Marshal(map[string]any{"sessionMetadata": map[string]any{"sampled": sampled}, "sessionResults": results})
		f.event(enc, w, "sessionUpdate", "application/json", upd)
		fl.Flush()
		// Keep the session open, as the real service does, until the client leaves.
		<-r.Context().Done()
	default:
		f.apiErr(w, 400, "UnknownOperationException", "unknown logs operation "+op)
	}
}

func (f *fakeAWS) ecr(w http.ResponseWriter, acct, region, op string, body []byte) {
	f.op(op)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var in struct {
		RepositoryName  string   `json:"repositoryName"`
		RepositoryNames []string `json:"repositoryNames"`
	}
	_ = json.Unmarshal(body, &in)
	switch op {
	case "GetAuthorizationToken":
		tok := base64.StdEncoding.EncodeToString([]byte("AWS:ecr-secret-" + acct))
		_ = json.NewEncoder(w).Encode(map[string]any{"authorizationData": []map[string]any{{
			"authorizationToken": tok, "expiresAt": float64(time.Now().Add(12 * time.Hour).Unix()),
			"proxyEndpoint": "https://" + acct + ".dkr.ecr." + region + ".amazonaws.com",
		}}})
	case "DescribeRepositories":
		f.mu.Lock()
		defer f.mu.Unlock()
		var repos []map[string]any
		for _, n := range in.RepositoryNames {
			if !f.repos[acct+"/"+region+"/"+n] {
				f.apiErr(w, 400, "RepositoryNotFoundException", "The repository with name '"+n+"' does not exist")
				return
			}
			repos = append(repos, map[string]any{"repositoryName": n})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"repositories": repos})
	case "CreateRepository":
		f.mu.Lock()
		f.repos[acct+"/"+region+"/"+in.RepositoryName] = true
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"repository": map[string]any{"repositoryName": in.RepositoryName}})
	default:
		f.apiErr(w, 400, "UnknownOperationException", "unknown ecr operation "+op)
	}
}

// fakeResolved is the ResolvedImageUri Lambda reports for an ImageUri: the
// reference itself when pinned, else repo@ a digest that differs per tag,
// as a real registry's would.
func fakeResolved(uri string) string {
	if strings.Contains(uri, "@") {
		return uri
	}
	repo := uri
	if i := strings.LastIndex(uri, ":"); i > strings.LastIndex(uri, "/") {
		repo = uri[:i]
	}
	sum := sha256.Sum256([]byte(uri))
	return repo + "@sha256:" + hex.EncodeToString(sum[:])
}
