package local

import (
	"slices"

	"github.com/moby/moby/api/types/network"
	"strings"
	"testing"
)

func TestBuildContainer(t *testing.T) {
	base := func(mode, network string, appPort int) containerSpec {
		return containerSpec{
			name: "fn", network: network, region: "eu-west-1", port: 41000, runtimePort: 41001, logPort: 41002, logToken: "tok",
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
		wantTap     string // the shim's --log-addr
		wantTapPub  string // container port published on 127.0.0.1:41002, "" for none
	}{
		{"lambda host", base(ModeLambda, NetworkHost, 0),
			[]string{"--invoke-addr", "127.0.0.1:41000", "--runtime-addr", "127.0.0.1:41001"},
			[]string{"A=1", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:41001", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256"}, "", "127.0.0.1:41002", ""},
		{"lambda bridge", base(ModeLambda, NetworkBridge, 0),
			[]string{"--invoke-addr", "0.0.0.0:8080", "--runtime-addr", "127.0.0.1:9001"},
			[]string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001", "AWS_REGION=eu-west-1", "TZ=:UTC"}, "8080/tcp", "0.0.0.0:7781", "7781/tcp"},
		{"cloudrun host", base(ModeCloudRun, NetworkHost, 9999), nil,
			[]string{"A=1", "PORT=41000", "K_SERVICE=fn", "K_REVISION=fn-abc123", "K_CONFIGURATION=fn"}, "", "127.0.0.1:41002", ""},
		{"cloudrun bridge default port", base(ModeCloudRun, NetworkBridge, 0), nil, []string{"PORT=8080"}, "8080/tcp", "0.0.0.0:7781", "7781/tcp"},
		{"cloudrun bridge --port", base(ModeCloudRun, NetworkBridge, 3000), nil, []string{"PORT=3000"}, "3000/tcp", "0.0.0.0:7781", "7781/tcp"},
		{"cloudrun bridge on the tap's port", base(ModeCloudRun, NetworkBridge, 7781), nil, []string{"PORT=7781"}, "7781/tcp", "0.0.0.0:7782", "7782/tcp"},
	}
	// Without a shim for the image's architecture a cloudrun app runs as
	// before the shim existed: its own entrypoint, no tap, nothing extra published.
	t.Run("cloudrun without a shim", func(t *testing.T) {
		sp := base(ModeCloudRun, NetworkBridge, 0)
		sp.shimHostPath = ""
		cfg, host := buildContainer(sp)
		if cfg.Entrypoint != nil || cfg.Cmd != nil || len(host.Binds) != 0 || len(host.PortBindings) != 1 || sp.labels[LabelLogPort] != "" || slices.Contains(cfg.Env, "FNDECK_LOG_TOKEN=tok") {
			t.Errorf("entrypoint %q cmd %q binds %v published %v labels %v", cfg.Entrypoint, cfg.Cmd, host.Binds, host.PortBindings, sp.labels)
		}
	})
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
			// Nothing is ever published beyond loopback: the function's
			// port on 41000, the log tap's on 41002.
			want := map[string]string{}
			if tt.wantPublish != "" {
				want[tt.wantPublish] = "41000"
				want[tt.wantTapPub] = "41002"
			}
			if len(host.PortBindings) != len(want) {
				t.Errorf("published %v, want %v", host.PortBindings, want)
			}
			for p, bs := range host.PortBindings {
				if len(bs) != 1 || bs[0].HostIP.String() != "127.0.0.1" || bs[0].HostPort != want[p.String()] {
					t.Errorf("%s published as %v, want 127.0.0.1:%s", p, bs, want[p.String()])
				}
			}
			if tt.wantTapPub != "" {
				if _, ok := cfg.ExposedPorts[network.MustParsePort(tt.wantTapPub)]; !ok {
					t.Errorf("tap port %s not exposed: %v", tt.wantTapPub, cfg.ExposedPorts)
				}
			}
			ep := strings.Join(cfg.Entrypoint, " ")
			if len(cfg.Entrypoint) < 2 || cfg.Entrypoint[0] != shimMountPath || cfg.Entrypoint[1] != "__lambda-shim" || cfg.Cmd != nil ||
				!strings.Contains(ep, "--log-addr "+tt.wantTap+" ") || !slices.Contains(host.Binds, "/state/shim/fndeck-shim-abc:"+shimMountPath+":ro") {
				t.Errorf("every mode runs under the shim with its tap: entrypoint %q cmd %q binds %v", cfg.Entrypoint, cfg.Cmd, host.Binds)
			}
			if tt.spec.labels[LabelLogPort] != "41002" || tt.spec.labels[LabelLogToken] != "tok" || !slices.Contains(cfg.Env, "FNDECK_LOG_TOKEN=tok") ||
				strings.Contains(ep, "tok ") {
				t.Errorf("log port label %q, token label %q, env %v: the token goes in the env, never argv", tt.spec.labels[LabelLogPort], tt.spec.labels[LabelLogToken], cfg.Env)
			}
			if tt.spec.st.mode == ModeLambda {
				if !strings.Contains(ep, strings.Join(tt.wantArgs, " ")) || strings.Contains(ep, "--mode") ||
					!strings.HasSuffix(ep, "--handler app.handler -- /lambda-entrypoint.sh app.handler") || cfg.Cmd != nil {
					t.Errorf("entrypoint %q cmd %q", cfg.Entrypoint, cfg.Cmd)
				}
				if !host.ReadonlyRootfs || host.Tmpfs["/tmp"] == "" || !slices.Contains(host.Binds, "/state/shim/fndeck-shim-abc:"+shimMountPath+":ro") {
					t.Errorf("lambda host config: ro=%v tmpfs=%v binds=%v", host.ReadonlyRootfs, host.Tmpfs, host.Binds)
				}
			} else if host.ReadonlyRootfs || !strings.Contains(ep, "--mode cloudrun") ||
				!strings.HasSuffix(ep, " -- /lambda-entrypoint.sh app.handler") {
				t.Errorf("cloudrun supervises the image's entrypoint + cmd with a writable root: %q %v", cfg.Entrypoint, host.ReadonlyRootfs)
			}
		})
	}
}
