package main

import (
	"context"
	"os"
	"strings"

	"github.com/mirrorkit/mirror"
	"github.com/mirrorkit/mirror/bucketconfig"
)

// loadCORS stores each -cors NAME=FILE as NAME's CORS rules, as a PUT
// ?cors would (docs/SERVING.md §4.5): FILE is S3's CORSConfiguration XML
// or BOS's JSON, told apart by its first character, and must be valid, or
// the command exits 2 naming every problem.
func loadCORS(e *env, registry *bucketconfig.Registry, specs []string) int {
	for _, spec := range specs {
		name, file, ok := strings.Cut(spec, "=")
		if !ok || !mirror.ValidBucket(name) {
			e.errorf("-cors %q: want NAME=FILE with a valid bucket name", spec)
			return 2
		}
		data, err := os.ReadFile(file)
		if err != nil {
			e.errorf("%v", err)
			return 2
		}
		rules, err := bucketconfig.ParseCORS(data)
		if err == nil {
			err = registry.PutCORS(context.Background(), name, rules)
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				e.errorf("%s: %s", file, line)
			}
			return 2
		}
	}
	return 0
}
