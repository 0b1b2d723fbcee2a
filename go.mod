module github.com/mirrorkit/mirror

go 1.26

require github.com/gobwas/glob v1.1.0
