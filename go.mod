module github.com/mirrorkit/mirror

go 1.26.0

require (
	github.com/baidubce/bce-sdk-go v0.9.277
	github.com/gobwas/glob v1.1.0
	golang.org/x/net v0.62.0
	golang.org/x/text v0.43.0
)

require (
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
