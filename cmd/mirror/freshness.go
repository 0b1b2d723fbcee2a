package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/mirrorkit/mirror"
)

// maxAges is -max-age NAME=D, repeatable: each bucket's maximum age, with
// "*" for every bucket not named (docs/SERVING.md §3.9).
type maxAges map[string]time.Duration

func (m *maxAges) String() string {
	var parts []string
	for name, d := range *m {
		parts = append(parts, name+"="+d.String())
	}
	return strings.Join(parts, ",")
}

func (m *maxAges) Set(v string) error {
	name, age, ok := strings.Cut(v, "=")
	d, err := time.ParseDuration(age)
	if !ok || (name != "*" && !mirror.ValidBucket(name)) || err != nil || d <= 0 {
		return fmt.Errorf("want NAME=DURATION (NAME a bucket or *, DURATION positive, as 1h or 30m)")
	}
	if *m == nil {
		*m = maxAges{}
	}
	if _, dup := (*m)[name]; dup {
		return fmt.Errorf("%s has a maximum age already", name)
	}
	(*m)[name] = d
	return nil
}

// of gives a bucket's maximum age, 0 for none.
func (m maxAges) of(bucket string) time.Duration {
	if d, ok := m[bucket]; ok {
		return d
	}
	return m["*"]
}
