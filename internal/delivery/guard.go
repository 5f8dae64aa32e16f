package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrBlockedTarget is returned when an outgoing request would reach an address mim refuses to call: private,
// loopback, link-local, unspecified, multicast or carrier-grade NAT, unless private targets are allowed.
var ErrBlockedTarget = errors.New("target address is not public")

// Guard decides which addresses outgoing HTTP may reach. The check runs on the resolved address at connect time
// (net.Dialer.Control), so DNS rebinding and redirects to private addresses are refused like a literal private URL.
type Guard struct {
	// AllowPrivate turns the guard off (MIM_ALLOW_PRIVATE_TARGETS).
	AllowPrivate bool
	// Allow lists targets reachable even when private (MIM_ALLOW_TARGETS): host:port entries (a self-hosted chat
	// server, the test receivers on loopback) and CIDR prefixes (10.20.0.0/16). Empty by default.
	Allow []string
	// Resolver resolves names, at validation and at connect time; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// blockedAddr reports whether a is an address outgoing notifications must not reach.
func blockedAddr(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsValid() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() || cgnat.Contains(a) ||
		a == netip.MustParseAddr("255.255.255.255")
}

func (g *Guard) allowed(hostport string) bool {
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		ip = ap.Addr().Unmap()
	}
	for _, a := range g.Allow {
		if a == hostport {
			return true
		}
		if p, err := netip.ParsePrefix(a); err == nil && ip.IsValid() && p.Contains(ip) {
			return true
		}
	}
	return false
}

func (g *Guard) resolver() *net.Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

// control refuses a connection to a blocked address; it sees the address actually dialled.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	if g.AllowPrivate || g.allowed(address) {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || blockedAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrBlockedTarget, address)
	}
	return nil
}

// dialContext resolves with the guard's resolver and dials each address through the guarded dialer.
func (g *Guard) dialContext(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, Control: g.control}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if g.allowed(addr) {
			return d.DialContext(ctx, network, addr)
		}
		ips, err := g.resolver().LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		var firstErr error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("no address for %s", host)
		}
		return nil, firstErr
	}
}

// Client returns an HTTP client whose every connection, redirects included, goes through the guard.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:           g.dialContext(timeout),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          200,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		Proxy:                 nil, // a proxy would hide the real target from the guard
	}
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

// numericHost matches hosts that are numbers in a form net/netip does not parse but resolvers may
// (0x7f000001, 2130706433, 127.1): refused outright rather than guessed at.
var numericHost = regexp.MustCompile(`^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+))*$`)

// ValidateURL checks a target URL at subscribe time: absolute http(s), no credentials, and a host whose addresses are
// all public (unless private targets are allowed). The check repeats at connect time, so a name that later resolves
// elsewhere is still refused then.
func (g *Guard) ValidateURL(ctx context.Context, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("must be an absolute http(s) URL")
	}
	if u.User != nil {
		return nil, errors.New("must not hold credentials")
	}
	if len(raw) > 2000 {
		return nil, errors.New("is too long")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port != "" {
		// A port no connection can use (0, 99999) would only be retried for ever.
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return nil, errors.New("has an invalid port")
		}
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if g.AllowPrivate || g.allowed(net.JoinHostPort(host, port)) {
		return u, nil
	}
	portNum, _ := strconv.ParseUint(port, 10, 16)
	blocked := func(a netip.Addr) bool {
		return blockedAddr(a) && !g.allowed(netip.AddrPortFrom(a.Unmap(), uint16(portNum)).String())
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if blocked(a) {
			return nil, ErrBlockedTarget
		}
		return u, nil
	}
	if numericHost.MatchString(host) {
		return nil, ErrBlockedTarget
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil, ErrBlockedTarget
	}
	lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ips, err := g.resolver().LookupNetIP(lctx, "ip", host)
	if err != nil {
		// An unresolvable name is not proof of a private one; connect time decides.
		return u, nil
	}
	for _, ip := range ips {
		if blocked(ip) {
			return nil, ErrBlockedTarget
		}
	}
	return u, nil
}
