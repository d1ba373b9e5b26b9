// Package accounts reads what the aws CLI and gcloud left on disk — profiles,
// gcloud configurations, Application Default Credentials, cached SSO tokens —
// to find the user's projects and profiles and to say whether their sessions
// are still valid. It makes no network call and imports no cloud SDK, so the
// TUI binary may use it.
package accounts

import (
	"bufio"
	"bytes"
	"os"
	"strings"
)

// iniFile is a parsed INI file: section → key → value. Keys are lower-case;
// a key before any section is in section "".
type iniFile map[string]map[string]string

// readINI parses the INI dialect the aws CLI and gcloud write: [section]
// headers, key = value lines, # and ; comments. Indented lines continue the
// previous value (aws's nested s3 = ... blocks) and are dropped.
func readINI(path string) (iniFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseINI(data), nil
}

func parseINI(data []byte) iniFile {
	out := iniFile{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if raw[0] == ' ' || raw[0] == '\t' {
			continue // a sub-property line
		}
		if line[0] == '[' {
			if end := strings.IndexByte(line, ']'); end > 0 {
				section = strings.Join(strings.Fields(line[1:end]), " ")
				if out[section] == nil {
					out[section] = map[string]string{}
				}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if out[section] == nil {
			out[section] = map[string]string{}
		}
		out[section][strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return out
}
