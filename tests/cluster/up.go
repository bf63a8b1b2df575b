package main

// `rk-cluster up`: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler in this one process, with their credentials under DIR.
//
//   certs and kubeconfigs -> etcd ready -> apiserver /readyz ok
//   -> bootstrap objects -> controller-manager + scheduler -> print env lines
//
// Everything logs to DIR/cluster.log (etcd to DIR/etcd.log); stdout stays
// empty until the cluster is ready, then gets the same lines as DIR/env.

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"
)

const (
	serviceCIDR = "10.96.0.0/12"
	// The first address of serviceCIDR: the `kubernetes` Service.
	serviceIP = "10.96.0.1"
	issuer    = "https://kubernetes.default.svc.cluster.local"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type upOptions struct {
	dir, advertise, bind string
	nodes                stringList
	port, etcdPort       int
	verbosity            string
}

func parseUp(args []string) (upOptions, error) {
	var o upOptions
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", "/var/lib/rk-cluster", "state directory (certs, kubeconfigs, etcd data, logs)")
	fs.Var(&o.nodes, "node-name", "node to write a kubelet kubeconfig for (repeatable; default: hostname)")
	fs.StringVar(&o.advertise, "advertise-address", "", "address the apiserver advertises (default: eth0's address, else 127.0.0.1)")
	fs.StringVar(&o.bind, "bind-address", "", "apiserver bind address (default: 0.0.0.0, or 127.0.0.1 when advertising loopback)")
	fs.IntVar(&o.port, "secure-port", 6443, "apiserver secure port")
	fs.IntVar(&o.etcdPort, "etcd-port", 2379, "etcd client port on 127.0.0.1 (peer port is the next one)")
	fs.StringVar(&o.verbosity, "v", "0", "klog verbosity of the components")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	abs, err := filepath.Abs(o.dir)
	if err != nil {
		return o, err
	}
	o.dir = abs
	if len(o.nodes) == 0 {
		o.nodes = stringList{hostname()}
	}
	if o.advertise == "" {
		o.advertise = "127.0.0.1"
		if ip := machineIP(); ip != nil {
			o.advertise = ip.String()
		}
	}
	if o.bind == "" {
		o.bind = "0.0.0.0"
		if net.ParseIP(o.advertise).IsLoopback() {
			o.bind = "127.0.0.1"
		}
	}
	return o, nil
}

// redirectStderr sends everything written to fd 2 (klog, panics) to the log.
func redirectStderr(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	return syscall.Dup3(int(f.Fd()), 2, 0)
}

// dirLock stays referenced for the process's life: a collected *os.File
// would be closed by its finalizer, dropping the lock.
var dirLock *os.File

// lockDir fails if another `up` owns dir.
func lockDir(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	// A predecessor just killed may still be tearing down (its lock goes
	// with its last descriptor), so wait a little before giving up.
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is in use by another rk-cluster: %w", dir, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	dirLock = f
	return nil
}

func cmdUp(args []string) error {
	o, err := parseUp(args)
	if err != nil {
		return err
	}
	l := layout{dir: o.dir, server: fmt.Sprintf("https://127.0.0.1:%d", o.port)}
	if err := l.mkdirs(); err != nil {
		return err
	}
	if err := lockDir(o.dir); err != nil {
		return err
	}
	if err := redirectStderr(l.path("cluster.log")); err != nil {
		return err
	}
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	if err := klogFlags.Set("v", o.verbosity); err != nil {
		return err
	}
	klog.Infof("rk-cluster up: dir=%s advertise=%s bind=%s nodes=%v", o.dir, o.advertise, o.bind, o.nodes)

	creds, err := prepareCredentials(l, o)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	started := time.Now()
	etcd, err := startEtcd(l.path("etcd"), l.path("etcd.log"), o.etcdPort)
	if err != nil {
		return err
	}
	defer etcd.Close()
	klog.Infof("etcd ready after %v", time.Since(started))

	failed := make(chan error, 3)
	run := func(name string, f func(context.Context, []string) error, args []string) {
		go func() {
			err := f(ctx, args)
			if ctx.Err() == nil {
				failed <- fmt.Errorf("%s stopped: %v", name, err)
			}
		}()
	}
	run("kube-apiserver", runAPIServer, apiserverArgs(l, o))

	cs, err := adminClient(l)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, cs, failed); err != nil {
		return err
	}
	klog.Infof("apiserver ready after %v", time.Since(started))
	if err := ensureBootstrapObjects(ctx, cs, creds.bootstrapToken, l.server, creds.ca.certPEM); err != nil {
		return err
	}
	run("kube-controller-manager", runControllerManager, controllerManagerArgs(l, o))
	run("kube-scheduler", runScheduler, schedulerArgs(l))

	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := l.writeKubectlWrapper(self); err != nil {
		return err
	}
	env := strings.Join([]string{
		"KUBECONFIG=" + l.adminKubeconfig(),
		"KUBELET_KUBECONFIG=" + l.kubeletKubeconfig(o.nodes[0]),
		"BOOTSTRAP_KUBECONFIG=" + l.bootstrapKubeconfig(),
		"KUBECTL=" + l.path("kubectl"),
		"API_SERVER=" + l.server,
		"E2E_TOKEN=" + creds.e2eToken,
	}, "\n") + "\n"
	if err := writeFile(l.path("env"), []byte(env), 0o600); err != nil {
		return err
	}
	fmt.Print(env)
	klog.Infof("cluster ready after %v", time.Since(started))

	select {
	case err := <-failed:
		return err
	case <-ctx.Done():
		klog.Infof("signal received, stopping")
		// Give the apiserver a moment to close its watches cleanly.
		time.Sleep(time.Second)
		return nil
	}
}

type credentials struct {
	ca                       *ca
	bootstrapToken, e2eToken string
}

// prepareCredentials creates (or reuses) every certificate, key, token and
// kubeconfig the components and the tests need.
func prepareCredentials(l layout, o upOptions) (credentials, error) {
	var c credentials
	var err error
	if c.ca, err = loadOrCreateCA(l.pki()); err != nil {
		return c, err
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(serviceIP)}
	if ip := net.ParseIP(o.advertise); ip != nil && !ip.IsLoopback() {
		ips = append(ips, ip)
	}
	if ip := machineIP(); ip != nil && !ip.Equal(net.ParseIP(o.advertise)) {
		ips = append(ips, ip)
	}
	serving := certSpec{
		cn:     "kube-apiserver",
		usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		dns: []string{"localhost", hostname(), "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		ips: ips,
	}
	if _, err := c.ca.ensureCertFiles(l.pki(), "apiserver", serving); err != nil {
		return c, err
	}
	// What the apiserver presents to kubelets for logs/exec/port-forward.
	kubeletClient := certSpec{cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"},
		usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := c.ca.ensureCertFiles(l.pki(), "apiserver-kubelet-client", kubeletClient); err != nil {
		return c, err
	}
	if err := ensureServiceAccountKey(l.pki()); err != nil {
		return c, err
	}
	if c.e2eToken, err = l.e2eToken(); err != nil {
		return c, err
	}
	tokens := fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", c.e2eToken, e2eUser, e2eUser)
	if err := writeFile(l.path("pki", "tokens.csv"), []byte(tokens), 0o600); err != nil {
		return c, err
	}
	if c.bootstrapToken, err = l.bootstrapToken(); err != nil {
		return c, err
	}
	if err := l.writeKubeconfig(l.bootstrapKubeconfig(), "kubelet-bootstrap",
		&clientcmdapi.AuthInfo{Token: c.bootstrapToken}, c.ca.certPEM); err != nil {
		return c, err
	}
	kubeconfigs := []struct{ path, cn, org string }{
		{l.adminKubeconfig(), "kubernetes-admin", "system:masters"},
		{l.path("controller-manager.kubeconfig"), "system:kube-controller-manager", ""},
		{l.path("scheduler.kubeconfig"), "system:kube-scheduler", ""},
	}
	for _, k := range kubeconfigs {
		var orgs []string
		if k.org != "" {
			orgs = []string{k.org}
		}
		if err := l.ensureClientKubeconfig(c.ca, k.path, k.cn, orgs...); err != nil {
			return c, err
		}
	}
	for _, node := range o.nodes {
		if err := l.ensureKubeletKubeconfig(c.ca, node); err != nil {
			return c, err
		}
	}
	return c, writeFile(l.path("ca.crt"), c.ca.certPEM, 0o644)
}

func apiserverArgs(l layout, o upOptions) []string {
	pki := l.pki()
	args := flagArgs(
		"etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", o.etcdPort),
		"bind-address", o.bind,
		"secure-port", strconv.Itoa(o.port),
		"advertise-address", o.advertise,
		"tls-cert-file", filepath.Join(pki, "apiserver.crt"),
		"tls-private-key-file", filepath.Join(pki, "apiserver.key"),
		"client-ca-file", filepath.Join(pki, "ca.crt"),
		"service-account-key-file", filepath.Join(pki, "sa.pub"),
		"service-account-signing-key-file", filepath.Join(pki, "sa.key"),
		"service-account-issuer", issuer,
		"service-cluster-ip-range", serviceCIDR,
		"authorization-mode", "Node,RBAC",
		"enable-admission-plugins", "NodeRestriction",
		"enable-bootstrap-token-auth", "true",
		"token-auth-file", filepath.Join(pki, "tokens.csv"),
		"kubelet-client-certificate", filepath.Join(pki, "apiserver-kubelet-client.crt"),
		"kubelet-client-key", filepath.Join(pki, "apiserver-kubelet-client.key"),
		"kubelet-preferred-address-types", "InternalIP,ExternalIP,Hostname",
		"allow-privileged", "true",
		"profiling", "false",
	)
	if net.ParseIP(o.advertise).IsLoopback() {
		// The lease reconciler refuses to publish a loopback endpoint.
		args = append(args, "--endpoint-reconciler-type=none")
	}
	return args
}

func controllerManagerArgs(l layout, o upOptions) []string {
	pki := l.pki()
	return flagArgs(
		"kubeconfig", l.path("controller-manager.kubeconfig"),
		"secure-port", "0",
		"leader-elect", "false",
		"controllers", "*,bootstrapsigner,tokencleaner",
		"use-service-account-credentials", "true",
		"service-account-private-key-file", filepath.Join(pki, "sa.key"),
		"root-ca-file", filepath.Join(pki, "ca.crt"),
		"cluster-signing-cert-file", filepath.Join(pki, "ca.crt"),
		"cluster-signing-key-file", filepath.Join(pki, "ca.key"),
		"service-cluster-ip-range", serviceCIDR,
		"cluster-name", "kubernetes",
	)
}

func schedulerArgs(l layout) []string {
	return flagArgs(
		"kubeconfig", l.path("scheduler.kubeconfig"),
		"secure-port", "0",
		"leader-elect", "false",
	)
}

func adminClient(l layout) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", l.adminKubeconfig())
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// waitReady polls /readyz until it answers ok (or a component dies).
func waitReady(ctx context.Context, cs *kubernetes.Clientset, failed <-chan error) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("apiserver not ready after 3 minutes: %v", err)
		}
		select {
		case err := <-failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
