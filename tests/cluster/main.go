// rk-cluster: a real Kubernetes control plane for rkubelet's tests, built
// from the upstream Go modules (test-only, never shipped).
//
//	rk-cluster up --dir DIR [--node-name NAME]...   etcd + apiserver + controller-manager + scheduler
//	rk-cluster kubelet-kubeconfig --dir DIR --node-name NAME
//	rk-cluster kubectl ...                          the upstream kubectl, same version
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	_ "time/tzdata" // CronJob time zones, as the upstream binaries do

	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
)

const usage = `usage:
  rk-cluster up --dir DIR [--node-name NAME]... [--advertise-address IP] [--secure-port 6443] [--etcd-port 2379]
  rk-cluster kubelet-kubeconfig --dir DIR --node-name NAME
  rk-cluster kubectl [kubectl args...]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = cmdUp(os.Args[2:])
	case "kubelet-kubeconfig":
		err = cmdKubeletKubeconfig(os.Args[2:])
	case "kubectl":
		runKubectl()
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "rk-cluster %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// runKubectl runs kubectl as if it were the program itself (it reads
// os.Args for plugins and verbosity).
func runKubectl() {
	os.Args = append([]string{"kubectl"}, os.Args[2:]...)
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) //nolint:errcheck
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
	os.Exit(0)
}

// cmdKubeletKubeconfig writes DIR/kubelet-NAME.kubeconfig (client
// certificate CN=system:node:NAME, O=system:nodes) and prints its path.
func cmdKubeletKubeconfig(args []string) error {
	fs := flag.NewFlagSet("kubelet-kubeconfig", flag.ContinueOnError)
	dir := fs.String("dir", "/var/lib/rk-cluster", "state directory of `up`")
	node := fs.String("node-name", "", "node name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *node == "" {
		return fmt.Errorf("--node-name is required")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	l := layout{dir: abs}
	admin, err := clientcmd.LoadFromFile(l.adminKubeconfig())
	if err != nil {
		return fmt.Errorf("run `up` first: %w", err)
	}
	for _, cluster := range admin.Clusters {
		l.server = cluster.Server
	}
	c, err := loadOrCreateCA(l.pki())
	if err != nil {
		return err
	}
	if err := l.ensureKubeletKubeconfig(c, *node); err != nil {
		return err
	}
	fmt.Println(l.kubeletKubeconfig(*node))
	return nil
}
