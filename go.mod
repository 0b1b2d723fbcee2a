module github.com/mirrorkit/mirror

go 1.26

require github.com/gobwas/glob v1.1.0

require (
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
