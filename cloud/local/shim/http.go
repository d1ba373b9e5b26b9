package shim

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/fndeck/fndeck/cloud/lambdaurl"
)

// The HTTP front door (Config.HTTPAddr): a function URL for the local
// function. Each request becomes a payload format 2.0 event (package
// lambdaurl), goes through the same invoke path as the RIE endpoint (one
// at a time, START/END/REPORT lines, timeouts), and the function's result
// becomes the HTTP response. It lives in the shim so it needs nothing from
// a running fndeck, like the rest of a deployed function.

// listenHTTP starts the front door on cfg.HTTPAddr; stop closes it.
func (s *server) listenHTTP() (stop func(), err error) {
	l, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listening for HTTP requests on %s: %w", s.cfg.HTTPAddr, err)
	}
	h := lambdaurl.Handler(func(r *http.Request, event []byte) ([]byte, string, error) {
		inv := s.newInvocation(event)
		res := s.invoke(r.Context(), inv)
		if res.isError {
			return res.body, "Unhandled", nil
		}
		return res.body, "", nil
	}, lambdaurl.Options{})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return func() { _ = srv.Close() }, nil
}
