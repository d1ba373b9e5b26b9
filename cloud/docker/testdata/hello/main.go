// Command hello is the static binary the docker backend's build tests put
// into a FROM scratch image: it prints a greeting and the files it was given
// as arguments that exist, so a test can see what the build context held.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("hello from fndeck")
	for _, p := range os.Args[1:] {
		if _, err := os.Stat(p); err == nil {
			fmt.Println("present", p)
		} else {
			fmt.Println("absent", p)
		}
	}
}
