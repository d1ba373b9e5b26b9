package local

import (
	"slices"
	"strings"
	"testing"
)

func TestBuildContainer(t *testing.T) {
	base := func(mode, network string, appPort int) containerSpec {
		return containerSpec{
			name: "fn", network: network, region: "eu-west-1", port: 41000, runtimePort: 41001,
			st:           settings{mode: mode, memoryMB: 256, timeoutS: 7, appPort: appPort, env: map[string]string{"A": "1"}},
			shimHostPath: "/state/shim/fndeck-shim-abc", entrypoint: []string{"/lambda-entrypoint.sh"}, cmd: []string{"app.handler"},
			labels: map[string]string{}, envNames: []string{"A"}, revision: "fn-abc123",
		}
	}
	tests := []struct {
		name        string
		spec        containerSpec
		wantArgs    []string // consecutive entrypoint words
		wantEnv     []string
		wantPublish string // container port published on 127.0.0.1:41000, "" for none
	}{
		{"lambda host", base(ModeLambda, NetworkHost, 0),
			[]string{"--invoke-addr", "127.0.0.1:41000", "--runtime-addr", "127.0.0.1:41001"},
			[]string{"A=1", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:41001", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256"}, ""},
		{"lambda bridge", base(ModeLambda, NetworkBridge, 0),
			[]string{"--invoke-addr", "0.0.0.0:8080", "--runtime-addr", "127.0.0.1:9001"},
			[]string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001", "AWS_REGION=eu-west-1", "TZ=:UTC"}, "8080/tcp"},
		{"cloudrun host", base(ModeCloudRun, NetworkHost, 9999), nil,
			[]string{"A=1", "PORT=41000", "K_SERVICE=fn", "K_REVISION=fn-abc123", "K_CONFIGURATION=fn"}, ""},
		{"cloudrun bridge default port", base(ModeCloudRun, NetworkBridge, 0), nil, []string{"PORT=8080"}, "8080/tcp"},
		{"cloudrun bridge --port", base(ModeCloudRun, NetworkBridge, 3000), nil, []string{"PORT=3000"}, "3000/tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, host := buildContainer(tt.spec)
			for _, e := range tt.wantEnv {
				if !slices.Contains(cfg.Env, e) {
					t.Errorf("env lacks %s: %v", e, cfg.Env)
				}
			}
			if string(host.NetworkMode) != tt.spec.network || host.Memory != 256<<20 {
				t.Errorf("network %s memory %d", host.NetworkMode, host.Memory)
			}
			// Nothing is ever published beyond loopback.
			for p, bs := range host.PortBindings {
				for _, b := range bs {
					if b.HostIP.String() != "127.0.0.1" || b.HostPort != "41000" {
						t.Errorf("%s published on %s:%s", p, b.HostIP, b.HostPort)
					}
				}
				if p.String() != tt.wantPublish {
					t.Errorf("published %s, want %s", p, tt.wantPublish)
				}
			}
			if len(host.PortBindings) == 0 && tt.wantPublish != "" {
				t.Errorf("nothing published, want %s", tt.wantPublish)
			}
			if tt.spec.st.mode == ModeLambda {
				ep := strings.Join(cfg.Entrypoint, " ")
				if cfg.Entrypoint[0] != shimMountPath || cfg.Entrypoint[1] != "__lambda-shim" || !strings.Contains(ep, strings.Join(tt.wantArgs, " ")) ||
					!strings.HasSuffix(ep, "--handler app.handler -- /lambda-entrypoint.sh app.handler") || cfg.Cmd != nil {
					t.Errorf("entrypoint %q cmd %q", cfg.Entrypoint, cfg.Cmd)
				}
				if !host.ReadonlyRootfs || host.Tmpfs["/tmp"] == "" || !slices.Contains(host.Binds, "/state/shim/fndeck-shim-abc:"+shimMountPath+":ro") {
					t.Errorf("lambda host config: ro=%v tmpfs=%v binds=%v", host.ReadonlyRootfs, host.Tmpfs, host.Binds)
				}
			} else if cfg.Entrypoint != nil || host.ReadonlyRootfs {
				t.Errorf("cloudrun keeps the image's entrypoint and a writable root: %q %v", cfg.Entrypoint, host.ReadonlyRootfs)
			}
		})
	}
}
