// Command fndeck-shim is the Lambda runtime shim as a standalone static
// binary. fndeck embeds a linux/amd64 build of it (cloud/local/shimbin) for
// when the running fndeck is not a static Linux executable itself.
package main

import (
	"os"

	"github.com/fndeck/fndeck/cloud/local/shim"
)

func main() { os.Exit(shim.Main(os.Args[1:])) }
