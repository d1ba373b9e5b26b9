// Package redact is fndeck's one rule set for hiding secrets in text: task
// output, task errors, invoke history (actions) and the cloud helper's
// stderr (cloud/remote) all go through it. It links no SDK.
package redact

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces every secret in task output, files and errors.
const Redacted = "[redacted]"

// minSecretLen: shorter registered values are ignored, because replacing
// every "ab" or "1" in the output would wreck it while hiding nothing
// (a 3-character secret is not a secret worth the name).
const minSecretLen = 4

// Redactor removes secrets from text: values registered with Add, and text
// that looks like a credential whatever its origin (see Redact). It is safe
// for concurrent use.
type Redactor struct {
	// parent's registered values are redacted too (a task's redactor
	// inherits the runner's).
	parent   *Redactor
	mu       sync.RWMutex
	secrets  []string
	replacer *strings.Replacer
}

// New returns a redactor with no registered values.
func New() *Redactor { return &Redactor{} }

// Child returns a redactor that redacts r's registered values too, and
// values added to itself, which r does not see (a task's redactor inherits
// the runner's).
func (r *Redactor) Child() *Redactor { return &Redactor{parent: r} }

// Add registers a value to redact wherever it appears. Values shorter than
// four bytes are ignored (see minSecretLen).
func (r *Redactor) Add(secret string) {
	secret = strings.TrimSpace(secret)
	if len(secret) < minSecretLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.secrets, secret) {
		return
	}
	r.secrets = append(r.secrets, secret)
	// Longest first so a secret containing another is replaced whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Redacted)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

var (
	// aws_secret_access_key=…, AWS_SESSION_TOKEN: …, "SecretAccessKey": "…"
	reAWSSecret = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)((?:aws_secret_access_key|aws_session_token|secret_?access_?key|session_?token)["']?\s*[=:]\s*["']?)[A-Za-z0-9/+=]{16,}`)
	})
	// Authorization: Bearer …, Basic …, or a bare token value.
	reAuthHeader = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)((?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:bearer|basic|token|aws4-hmac-sha256)?\s*)[^\s"',]+`)
	})
	// "password": "…" and friends in JSON.
	reJSONSecret = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)("(?:password|passwd|secret|client_secret|token|access_token|refresh_token|id_token|identitytoken|identity_token|registrytoken|auth|api_key|apikey|private_key|secretaccesskey|sessiontoken)"\s*:\s*")((?:[^"\\]|\\.)*)"`)
	})
	// X-Amz-Security-Token / X-Amz-Signature as header or presigned-URL query.
	reAmzToken = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(x-amz-(?:security-token|signature|credential)\s*[:=]\s*)[^\s&"']+`)
	})
	// JWT-looking tokens: three base64url parts, the first two JSON objects.
	reJWT = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	})
	// --password X, --password=X, -p X after docker login.
	rePasswordFlag = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`((?:^|\s)--?(?:password|passwd|token|secret)[= ])\S+`)
	})
	// Bearer …, Basic … anywhere, not only after an Authorization name.
	reAuthScheme = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(bearer|basic)\s+([^\s"',]+)`)
	})
	// key=value and key: value (quoted or not, in logs and YAML) whose key
	// is a secret's name: a whole word such as password, client_secret,
	// api-key, access_token or session_token. Words that merely contain one
	// (author, tokenizer, session, authenticated) are ordinary log text.
	reKeyValue = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b((?:[a-z0-9]+[_-])*(?:secret|token|password|passwd|credentials?|api[_-]?key|access[_-]?key|auth[_-]?token|session[_-]?token)(?:[_-]?(?:key|token|value))?)(["']?\s*[=:]\s*["']?)([^\s"',&]+)`)
	})
	// AWS access key IDs (long-term AKIA…, temporary ASIA…): half of a
	// credential pair, and they name the account.
	reAWSKeyID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\bA(?:KIA|SIA)[0-9A-Z]{12,}\b`) })
	// https://user:pass@host
	reURLUserinfo = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:)[^\s/@]+@`) })
	// NAME=value where NAME looks secret (checked by secretName).
	reEnvAssign = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|[^\s"'&]+)`)
	})
)

// secretWords make an environment variable name look secret.
var secretWords = []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PWD", "KEY", "CREDENTIAL", "PRIVATE", "AUTH", "CERT", "SIGNATURE", "SESSION"}

var lowerSecretWords = func() []string {
	out := make([]string, len(secretWords))
	for i, w := range secretWords {
		out[i] = strings.ToLower(w)
	}
	return out
}()

// SecretName reports whether an environment variable name looks like it holds
// a secret. Names containing SECRET, TOKEN, PASSWORD, PASSWD, KEY, CREDENTIAL,
// PRIVATE, AUTH, … do, except identifiers that merely name a key: names ending
// in KEY_ID, _ID, _NAME, _ARN, _PATH, _FILE, _URL (AWS_ACCESS_KEY_ID,
// KMS_KEY_ARN) — those are shown so the user can still read their config.
// PWD itself (the working directory) is not a secret.
func SecretName(name string) bool {
	n := strings.ToUpper(name)
	if n == "PWD" || n == "OLDPWD" {
		return false
	}
	if namesAKey(n) {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// namesAKey reports whether an upper-case name only names or locates a
// secret (AWS_ACCESS_KEY_ID, KMS_KEY_ARN, TOKEN_FILE) rather than holding one.
func namesAKey(upper string) bool {
	for _, suf := range []string{"_ID", "_NAME", "_ARN", "_PATH", "_FILE", "_URL", "_REGION", "_TYPE"} {
		if strings.HasSuffix(upper, suf) {
			return true
		}
	}
	return false
}

// authScheme reports whether v is an Authorization scheme word, which the
// credential after it follows (and the scheme's own rule redacts).
func authScheme(v string) bool {
	switch strings.ToLower(v) {
	case "bearer", "basic", "token", "aws4-hmac-sha256", "digest", "negotiate":
		return true
	}
	return false
}

// Redact returns s with registered values and credential-looking text
// replaced by "[redacted]": AWS secret keys and session tokens after their
// names, Authorization header values, JSON "password"/"token"/"secret"
// fields, X-Amz-Security-Token/Signature, JWTs, --password flags, URL
// passwords, NAME=value where SecretName(NAME), Bearer/Basic credentials
// anywhere, key=value and key: value whose key names a secret, and AWS
// access key IDs.
func (r *Redactor) Redact(s string) string {
	return Patterns(r.replaceRegistered(s))
}

func (r *Redactor) replaceRegistered(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep != nil {
		s = rep.Replace(s)
	}
	return r.parent.replaceRegistered(s)
}

// Patterns applies only the credential patterns of Redact. Each
// pattern runs only when the line holds a word it needs: case-insensitive
// regexps cost tens of microseconds a line, and most lines hold no secret.
func Patterns(s string) string {
	lower := strings.ToLower(s)
	anyOf := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(lower, w) {
				return true
			}
		}
		return false
	}
	if anyOf("secret", "session") {
		s = reAWSSecret().ReplaceAllString(s, "${1}"+Redacted)
	}
	if anyOf("authorization") {
		s = reAuthHeader().ReplaceAllString(s, "${1}"+Redacted)
	}
	if strings.Contains(s, `"`) && anyOf("pass", "secret", "token", "auth", "key") {
		s = reJSONSecret().ReplaceAllString(s, `${1}`+Redacted+`"`)
	}
	if anyOf("x-amz-") {
		s = reAmzToken().ReplaceAllString(s, "${1}"+Redacted)
	}
	if strings.Contains(s, "eyJ") {
		s = reJWT().ReplaceAllString(s, Redacted)
	}
	if anyOf("-pass", "-token", "-secret") {
		s = rePasswordFlag().ReplaceAllString(s, "${1}"+Redacted)
	}
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		s = reURLUserinfo().ReplaceAllString(s, "${1}"+Redacted+"@")
	}
	if strings.Contains(s, "=") && anyOf(lowerSecretWords...) {
		s = reEnvAssign().ReplaceAllStringFunc(s, func(m string) string {
			name, val, _ := strings.Cut(m, "=")
			if !SecretName(name) || strings.HasPrefix(val, Redacted) {
				return m
			}
			return name + "=" + Redacted
		})
	}
	if anyOf("bearer", "basic") {
		s = reAuthScheme().ReplaceAllStringFunc(s, func(m string) string {
			sub := reAuthScheme().FindStringSubmatch(m)
			if strings.HasPrefix(sub[2], Redacted) {
				return m
			}
			return sub[1] + " " + Redacted
		})
	}
	if strings.ContainsAny(s, "=:") && anyOf("secret", "token", "pass", "credential", "session", "auth", "key") {
		s = reKeyValue().ReplaceAllStringFunc(s, func(m string) string {
			sub := reKeyValue().FindStringSubmatch(m)
			if strings.HasPrefix(sub[3], Redacted) || namesAKey(strings.ToUpper(sub[1])) || authScheme(sub[3]) {
				return m
			}
			return sub[1] + sub[2] + Redacted
		})
	}
	if strings.Contains(s, "A") && (strings.Contains(s, "AKIA") || strings.Contains(s, "ASIA")) {
		s = reAWSKeyID().ReplaceAllString(s, Redacted)
	}
	return s
}
