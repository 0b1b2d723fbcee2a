package bucketconfig

// Slots is slots, for the external tests.
func (r *Registry) Slots() int { return r.slots() }
