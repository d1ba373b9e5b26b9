// Package testsupport is the home of fndeck's test support: fakes of the
// clouds (gcpfake: Cloud Run and Cloud Logging gRPC servers), fakes of our
// own interfaces (fake) and the set-ups that start the real components tests
// run against (cloudtest). Only tests import them: TestNoProductPackageImportsTestSupport
// fails when a product package imports `testing` or a package under here.
package testsupport
