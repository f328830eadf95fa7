package provisioning

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
)

// scpLikeRepository is Git's short SSH form, `git@github.com:company/orders.git`,
// which Argo CD takes as a repoURL too.
var scpLikeRepository = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9._]*@([A-Za-z0-9][-A-Za-z0-9.]*):([^/:][^:]*)$`)

// checkRepositoryURL refuses a repository Argo CD should not be pointed at:
// only https, ssh and git URLs (and Git's user@host:path form) are taken,
// never file: or plain http, so that no one can make Argo CD's repo server
// read its own disk or a cloud metadata endpoint. Hosts that are loopback,
// link-local or unspecified addresses are refused for the same reason, and
// credentials in the URL because they would be stored and shown to every
// reader: Argo CD takes them from a repository Secret.
func checkRepositoryURL(raw string) error {
	if raw == "" {
		return nil
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("must not contain spaces or control characters")
	}
	if m := scpLikeRepository.FindStringSubmatch(raw); m != nil && !strings.Contains(raw, "://") {
		return checkRepositoryHost(m[1])
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("must be an https://, ssh:// or git:// URL, or user@host:path")
	}
	switch u.Scheme {
	case "https", "ssh", "git":
	default:
		return fmt.Errorf("scheme %q is not allowed: use https://, ssh:// or git://", u.Scheme)
	}
	if _, hasPassword := u.User.Password(); hasPassword || (u.User != nil && u.Scheme == "https") {
		return fmt.Errorf("must not carry credentials: give Argo CD a repository secret instead")
	}
	if u.Path == "" || u.Path == "/" {
		return fmt.Errorf("must name a repository, not only a host")
	}
	return checkRepositoryHost(u.Hostname())
}

func checkRepositoryHost(host string) error {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return fmt.Errorf("host %q is this machine, not a Git server", host)
	}
	addr, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return nil // a DNS name
	}
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsUnspecified() || addr.IsMulticast() {
		return fmt.Errorf("host %s is a loopback, link-local or unspecified address, not a Git server", addr)
	}
	return nil
}
