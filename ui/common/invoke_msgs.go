package common

import (
	"net/http"

	"github.com/fndeck/fndeck/cloud"
)

// InvokeSendMsg asks the root to invoke a function with a payload the invoke
// pane validated. Method, Path and Headers are set for HTTP targets only.
type InvokeSendMsg struct {
	Address cloud.Address
	Payload []byte
	Method  string
	Path    string
	Headers http.Header
}

// InvokeChunkMsg carries one piece of a streamed response as it arrives.
// Data is raw bytes from outside; the invoke pane sanitizes it for display.
type InvokeChunkMsg struct {
	Address cloud.Address
	Data    []byte
}

// InvokeDoneMsg ends an invocation: Result when it completed (even with a
// function error), Err when the call itself failed.
type InvokeDoneMsg struct {
	Address cloud.Address
	Result  cloud.InvokeResult
	Err     error
}
