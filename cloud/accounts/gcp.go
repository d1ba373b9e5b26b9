package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Where a GCP project came from, as the header shows it.
const (
	SourceConfig       = "config"        // gcp.projects
	SourceEnv          = "environment"   // GOOGLE_CLOUD_PROJECT / CLOUDSDK_CORE_PROJECT
	SourceGcloud       = "gcloud config" // gcloud's active configuration
	SourceQuotaProject = "ADC quota project"
	SourceCredentials  = "credentials" // the credentials' own project
)

// GCPProject is a discovered project and where it came from.
type GCPProject struct {
	ID     string
	Source string
	// Detail names the variable, configuration or file the project was read
	// from ("GOOGLE_CLOUD_PROJECT", "config_default", a path).
	Detail string
}

// GcloudConfigDir is CLOUDSDK_CONFIG, else gcloud's default config
// directory (~/.config/gcloud; %APPDATA%\gcloud on Windows).
func GcloudConfigDir() string {
	if d := os.Getenv("CLOUDSDK_CONFIG"); d != "" {
		return d
	}
	if runtime.GOOS == "windows" {
		if a := os.Getenv("APPDATA"); a != "" {
			return filepath.Join(a, "gcloud")
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "gcloud")
}

// GcloudActiveConfig names gcloud's active configuration:
// CLOUDSDK_ACTIVE_CONFIG_NAME, else the active_config file, else "default".
func GcloudActiveConfig() string {
	if n := strings.TrimSpace(os.Getenv("CLOUDSDK_ACTIVE_CONFIG_NAME")); n != "" {
		return n
	}
	if b, err := os.ReadFile(filepath.Join(GcloudConfigDir(), "active_config")); err == nil {
		if n := strings.TrimSpace(string(b)); n != "" {
			return n
		}
	}
	return "default"
}

// GcloudProperties are the [core] properties of gcloud's active configuration.
type GcloudProperties struct {
	Config  string // configuration name
	Path    string // its file
	Project string
	Account string
}

// ReadGcloudProperties reads the active configuration's [core] project and
// account. A missing file is not an error (empty properties).
func ReadGcloudProperties() (GcloudProperties, error) {
	name := GcloudActiveConfig()
	p := GcloudProperties{Config: name, Path: filepath.Join(GcloudConfigDir(), "configurations", "config_"+name)}
	ini, err := readINI(p.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("reading gcloud configuration %s: %w", name, err)
	}
	p.Project = ini["core"]["project"]
	p.Account = ini["core"]["account"]
	return p, nil
}

// ADC is what an Application Default Credentials file says about itself.
type ADC struct {
	Path           string
	Type           string // authorized_user, service_account, external_account, impersonated_service_account
	ProjectID      string
	QuotaProjectID string
	ClientEmail    string // service accounts
	HasRefresh     bool   // authorized_user with a refresh token
}

// ADCPath is GOOGLE_APPLICATION_CREDENTIALS, else gcloud's
// application_default_credentials.json.
func ADCPath() string {
	if p := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); p != "" {
		return p
	}
	d := GcloudConfigDir()
	if d == "" {
		return ""
	}
	return filepath.Join(d, "application_default_credentials.json")
}

// ReadADC reads the ADC file; ok is false when there is none. A file that
// exists but cannot be parsed is an error naming it.
func ReadADC() (adc ADC, ok bool, err error) {
	path := ADCPath()
	if path == "" {
		return ADC{}, false, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ADC{}, false, nil
	}
	if err != nil {
		return ADC{}, false, fmt.Errorf("reading application default credentials: %w", err)
	}
	var f struct {
		Type           string `json:"type"`
		ProjectID      string `json:"project_id"`
		QuotaProjectID string `json:"quota_project_id"`
		ClientEmail    string `json:"client_email"`
		RefreshToken   string `json:"refresh_token"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return ADC{}, false, fmt.Errorf("application default credentials %s: not JSON: %w", path, err)
	}
	return ADC{Path: path, Type: f.Type, ProjectID: f.ProjectID, QuotaProjectID: f.QuotaProjectID,
		ClientEmail: f.ClientEmail, HasRefresh: f.RefreshToken != ""}, true, nil
}

// DiscoverGCPProject finds the project to use when gcp.projects is unset,
// in gcloud's own order: the environment, gcloud's active configuration,
// ADC's quota project, then the ADC file's own project. ok is false when
// none says; the caller may still ask the credentials (the metadata server).
func DiscoverGCPProject() (p GCPProject, ok bool) {
	for _, env := range []string{"GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"} {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			return GCPProject{ID: v, Source: SourceEnv, Detail: env}, true
		}
	}
	if props, err := ReadGcloudProperties(); err == nil && props.Project != "" {
		return GCPProject{ID: props.Project, Source: SourceGcloud, Detail: props.Path}, true
	}
	if adc, found, err := ReadADC(); err == nil && found {
		if adc.QuotaProjectID != "" {
			return GCPProject{ID: adc.QuotaProjectID, Source: SourceQuotaProject, Detail: adc.Path}, true
		}
		if adc.ProjectID != "" {
			return GCPProject{ID: adc.ProjectID, Source: SourceCredentials, Detail: adc.Path}, true
		}
	}
	return GCPProject{}, false
}

// GCPConfigured reports whether anything on disk or in the environment
// points at Google Cloud: a project, ADC, or a gcloud account.
func GCPConfigured() bool {
	if _, ok := DiscoverGCPProject(); ok {
		return true
	}
	if _, found, _ := ReadADC(); found {
		return true
	}
	props, _ := ReadGcloudProperties()
	return props.Account != ""
}
