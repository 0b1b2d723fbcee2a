// The providers' SDKs configuring a running gateway: runnable examples of
// the README's "Configure a running gateway with the providers' SDKs". A
// module of its own, so that the SDKs stay out of the gateway's build
// (they are test-only dependencies there).
module github.com/mirrorkit/mirror/examples/sdk

go 1.26

require (
	github.com/baidubce/bce-sdk-go v0.9.277
	github.com/yunify/qingstor-sdk-go/v3 v3.2.0
)

require (
	github.com/pengsrc/go-shared v0.2.1-0.20190131101655-1999055a4a14 // indirect
	gopkg.in/yaml.v2 v2.2.2 // indirect
)
