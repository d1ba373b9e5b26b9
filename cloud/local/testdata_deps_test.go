package local

// testdata/hello, the Lambda handler these tests (and cloud/local/shim's and
// ui/e2e's) build into images, imports aws-lambda-go. The go tool ignores
// testdata directories, so without this import `go mod tidy` drops the
// requirement and building testdata/hello fails with "no required module
// provides package". The package only registers a start-up hook in init.
import _ "github.com/aws/aws-lambda-go/lambda"
