package shim

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary play a broken runtime (FNDECK_SHIM_TEST_RUNTIME),
// so failure paths run against a real child process.
func TestMain(m *testing.M) {
	switch os.Getenv("FNDECK_SHIM_TEST_RUNTIME") {
	case "init-error":
		api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
		req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error",
			strings.NewReader(`{"errorMessage":"cannot load handler","errorType":"Runtime.ImportModuleError"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.ImportModuleError")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		fmt.Println("init failed")
		os.Exit(1)
	case "crash":
		fmt.Println("crashing at init")
		os.Exit(3)
	case "":
	default:
		os.Exit(testChild(os.Getenv("FNDECK_SHIM_TEST_RUNTIME")))
	}
	os.Exit(m.Run())
}

func TestShimInitFailures(t *testing.T) {
	for _, tc := range []struct{ mode, wantType, wantMsg string }{
		{"init-error", "Runtime.ImportModuleError", "cannot load handler"},
		{"crash", "Runtime.ExitError", "exit status 3"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Setenv("FNDECK_SHIM_TEST_RUNTIME", tc.mode)
			out, addrs := startShim(t, Config{Command: []string{os.Args[0]}, MemoryMB: 256})
			base := strings.SplitN(addrs, "|", 2)[1]
			for i := 0; i < 2; i++ { // and again: each invoke gets a fresh runtime
				resp, body := invoke(t, base, `{}`, nil)
				if resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(string(body), tc.wantType) || !strings.Contains(string(body), tc.wantMsg) {
					t.Errorf("invoke %d: %q %s", i, resp.Header.Get("X-Amz-Function-Error"), body)
				}
				if m := reportFor(t, out.String(), resp.Header.Get("X-Amzn-RequestId")); m[3] != "\tStatus: error" {
					t.Errorf("REPORT %q", m[0])
				}
			}
		})
	}
}
