package main

// What lives where in DIR, and the credentials written there. Everything
// here is idempotent: files already present are reused.

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	// The token-auth-file user for the node e2e suite (and other tests that
	// want a bearer token rather than a client certificate).
	e2eUser = "rk-e2e-admin"
	// The group kubeadm gives its default bootstrap tokens; kubeadm's RBAC
	// for TLS bootstrap (created in bootstrap.go) refers to it.
	bootstrapGroup = "system:bootstrappers:kubeadm:default-node-token"
)

type layout struct {
	dir string
	// server is the URL written into every kubeconfig.
	server string
}

func (l layout) path(parts ...string) string {
	return filepath.Join(append([]string{l.dir}, parts...)...)
}

func (l layout) pki() string                 { return l.path("pki") }
func (l layout) caCert() string              { return l.path("pki", "ca.crt") }
func (l layout) adminKubeconfig() string     { return l.path("admin.kubeconfig") }
func (l layout) bootstrapKubeconfig() string { return l.path("bootstrap.kubeconfig") }
func (l layout) kubeletKubeconfig(node string) string {
	return l.path("kubelet-" + node + ".kubeconfig")
}
func (l layout) tokenFile() string          { return l.path("e2e.token") }
func (l layout) bootstrapTokenFile() string { return l.path("bootstrap.token") }

func (l layout) mkdirs() error {
	for _, d := range []string{l.dir, l.pki(), l.path("etcd")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// writeKubeconfig writes a single-context kubeconfig with embedded data.
func (l layout) writeKubeconfig(path, user string, authInfo *clientcmdapi.AuthInfo, caPEM []byte) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubernetes"] = &clientcmdapi.Cluster{Server: l.server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = authInfo
	cfg.Contexts["default"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: user}
	cfg.CurrentContext = "default"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o600)
}

// ensureClientKubeconfig writes a kubeconfig with a client certificate for
// cn/orgs unless it is already there.
func (l layout) ensureClientKubeconfig(c *ca, path, cn string, orgs ...string) error {
	if exists(path) {
		return nil
	}
	pair, err := c.issue(certSpec{cn: cn, orgs: orgs, usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return err
	}
	return l.writeKubeconfig(path, cn, &clientcmdapi.AuthInfo{
		ClientCertificateData: pair.certPEM,
		ClientKeyData:         pair.keyPEM,
	}, c.certPEM)
}

// ensureKubeletKubeconfig: the credentials a kubelet that skips TLS
// bootstrap would be given (as the Node authorizer expects them).
func (l layout) ensureKubeletKubeconfig(c *ca, node string) error {
	return l.ensureClientKubeconfig(c, l.kubeletKubeconfig(node), "system:node:"+node, "system:nodes")
}

// tokenChars are those bootstrap tokens are made of ([a-z0-9]).
const tokenChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomTokenPart(n int) (string, error) {
	out := make([]byte, n)
	for i := range out {
		idx, err := rand.Int(rand.Reader, big.NewInt(int64(len(tokenChars))))
		if err != nil {
			return "", err
		}
		out[i] = tokenChars[idx.Int64()]
	}
	return string(out), nil
}

// bootstrapToken returns "<id>.<secret>", made once per DIR.
func (l layout) bootstrapToken() (string, error) {
	return loadOrCreateSecret(l.bootstrapTokenFile(), func() (string, error) {
		id, err := randomTokenPart(6)
		if err != nil {
			return "", err
		}
		secret, err := randomTokenPart(16)
		if err != nil {
			return "", err
		}
		return id + "." + secret, nil
	})
}

func (l layout) e2eToken() (string, error) {
	return loadOrCreateSecret(l.tokenFile(), func() (string, error) { return randomHex(24) })
}

// machineIP is eth0's first IPv4 address, if any: what the apiserver
// advertises when it exists.
func machineIP() net.IP {
	iface, err := net.InterfaceByName("eth0")
	if err != nil {
		return nil
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.To4()
		}
	}
	return nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// writeKubectlWrapper makes DIR/kubectl, which runs our built-in kubectl
// with the admin kubeconfig.
func (l layout) writeKubectlWrapper(self string) error {
	script := fmt.Sprintf("#!/bin/sh\nexec %q kubectl --kubeconfig=%q \"$@\"\n", self, l.adminKubeconfig())
	return writeFile(l.path("kubectl"), []byte(script), 0o755)
}
