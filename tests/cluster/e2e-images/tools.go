//go:build tools

// Package tools pins the test-image commands this module builds, so go.sum covers them.
package tools

import (
	_ "k8s.io/kubernetes/test/images/agnhost"
	_ "k8s.io/kubernetes/test/images/nonewprivs"
)
