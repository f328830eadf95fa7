package kube

// AppliedCount is how many objects Apply's record holds.
func (c *Cluster) AppliedCount() int {
	c.appliedMu.Lock()
	defer c.appliedMu.Unlock()
	return len(c.applied)
}
