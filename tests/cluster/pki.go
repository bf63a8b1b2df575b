package main

// The cluster's certificates and keys. Everything is created once under
// DIR/pki and reused on restart, so kubeconfigs handed out earlier (and
// certificates the controller-manager signed for kubelets) stay valid. The
// API server's serving certificate is the exception: it is re-issued from the
// same CA whenever the wanted SANs change (e.g. the machine's address moved).

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// RSA 2048 like kubeadm, so clients meet what they meet in real clusters.
const keyBits = 2048

type ca struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
}

// certSpec describes one leaf certificate to issue.
type certSpec struct {
	cn     string
	orgs   []string
	usages []x509.ExtKeyUsage
	dns    []string
	ips    []net.IP
}

// keyPair is a PEM certificate and key as they go into a kubeconfig.
type keyPair struct {
	certPEM []byte
	keyPEM  []byte
}

func newKey() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, keyBits)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func readPEM(path string) (*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	return block, nil
}

func readKey(path string) (crypto.Signer, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: not a signing key", path)
	}
	return signer, nil
}

func readCert(path string) (*x509.Certificate, []byte, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return cert, encodeCert(block.Bytes), nil
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// loadOrCreateCA reads DIR/pki/ca.{crt,key} or makes a new self-signed CA.
func loadOrCreateCA(pkiDir string) (*ca, error) {
	certPath, keyPath := filepath.Join(pkiDir, "ca.crt"), filepath.Join(pkiDir, "ca.key")
	if exists(certPath) && exists(keyPath) {
		cert, certPEM, err := readCert(certPath)
		if err != nil {
			return nil, err
		}
		key, err := readKey(keyPath)
		if err != nil {
			return nil, err
		}
		return &ca{cert: cert, key: key, certPEM: certPEM}, nil
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "kubernetes"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	certPEM := encodeCert(der)
	if err := writeFile(certPath, certPEM, 0o644); err != nil {
		return nil, err
	}
	return &ca{cert: cert, key: key, certPEM: certPEM}, nil
}

// issue signs a fresh key pair for spec, valid for one year.
func (c *ca) issue(spec certSpec) (keyPair, error) {
	key, err := newKey()
	if err != nil {
		return keyPair{}, err
	}
	sn, err := serial()
	if err != nil {
		return keyPair{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: spec.cn, Organization: spec.orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  spec.usages,
		DNSNames:     spec.dns,
		IPAddresses:  spec.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return keyPair{}, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{certPEM: encodeCert(der), keyPEM: keyPEM}, nil
}

// ensureCertFiles writes DIR/pki/<name>.{crt,key} unless a certificate that
// satisfies spec is already there; returns the pair either way.
func (c *ca) ensureCertFiles(pkiDir, name string, spec certSpec) (keyPair, error) {
	certPath, keyPath := filepath.Join(pkiDir, name+".crt"), filepath.Join(pkiDir, name+".key")
	if exists(certPath) && exists(keyPath) {
		cert, certPEM, err := readCert(certPath)
		if err == nil && c.stillGood(cert, spec) {
			keyPEM, err := os.ReadFile(keyPath)
			if err != nil {
				return keyPair{}, err
			}
			return keyPair{certPEM: certPEM, keyPEM: keyPEM}, nil
		}
	}
	pair, err := c.issue(spec)
	if err != nil {
		return keyPair{}, err
	}
	if err := writeFile(keyPath, pair.keyPEM, 0o600); err != nil {
		return keyPair{}, err
	}
	if err := writeFile(certPath, pair.certPEM, 0o644); err != nil {
		return keyPair{}, err
	}
	return pair, nil
}

// stillGood: signed by this CA, not near expiry, same subject and SANs.
func (c *ca) stillGood(cert *x509.Certificate, spec certSpec) bool {
	if cert.CheckSignatureFrom(c.cert) != nil || time.Until(cert.NotAfter) < 30*24*time.Hour {
		return false
	}
	if cert.Subject.CommonName != spec.cn || !sameStrings(cert.Subject.Organization, spec.orgs) {
		return false
	}
	var haveIPs, wantIPs []string
	for _, ip := range cert.IPAddresses {
		haveIPs = append(haveIPs, ip.String())
	}
	for _, ip := range spec.ips {
		wantIPs = append(wantIPs, ip.String())
	}
	return sameStrings(cert.DNSNames, spec.dns) && sameStrings(haveIPs, wantIPs)
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// ensureServiceAccountKey makes the RSA key pair that signs service account
// tokens (DIR/pki/sa.key, sa.pub).
func ensureServiceAccountKey(pkiDir string) error {
	keyPath, pubPath := filepath.Join(pkiDir, "sa.key"), filepath.Join(pkiDir, "sa.pub")
	if exists(keyPath) && exists(pubPath) {
		return nil
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
}

// randomHex returns n random bytes as lower-case hex.
func randomHex(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", buf), nil
}

// loadOrCreateSecret returns the trimmed content of path, creating it with
// make() the first time.
func loadOrCreateSecret(path string, make func() (string, error)) (string, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		s := string(data)
		for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
			s = s[:len(s)-1]
		}
		if s != "" {
			return s, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	s, err := make()
	if err != nil {
		return "", err
	}
	return s, writeFile(path, []byte(s+"\n"), 0o600)
}
