// kcluster is the test cluster's Kubernetes: one binary, five components and kubectl. The first
// argument picks the component and the rest are its own flags; invoked through a link named
// kubectl it is kubectl. One binary because they share most packages, so a cold build compiles
// and links them once instead of six times, and kubectl always matches the server's version.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	_ "time/tzdata" // CronJob time zones, as the upstream controller-manager and apiserver embed them

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json, as upstream mains offer
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics on /metrics, as upstream
	_ "k8s.io/component-base/metrics/prometheus/version"  // the build version on /metrics, as upstream
	"k8s.io/component-base/version"
	kubectl "k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// Each entry builds its cobra command only when chosen: building one registers that component's
// global flags and feature gates, which must not leak into another component's process.
var components = map[string]func() *cobra.Command{
	"apiserver":          apiserver.NewAPIServerCommand,
	"controller-manager": controllermanager.NewControllerManagerCommand,
	"scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
	"kubelet":            func() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) },
	"proxy":              proxy.NewProxyCommand,
	"kubectl":            kubectl.NewDefaultKubectlCommand,
}

func usage() {
	names := make([]string, 0, len(components))
	for name := range components {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: kcluster <%s|version> [flags]\n", strings.Join(names, "|"))
}

func main() {
	// Called through a link (…/kubectl), the link's name is the component.
	if _, ok := components[filepath.Base(os.Args[0])]; !ok {
		if len(os.Args) < 2 {
			usage()
			os.Exit(2)
		}
		// Drop our own argv[0]: every component then sees the argv it would see as its own binary.
		// kubectl needs that (it reads os.Args for plugin lookup); cobra reads os.Args[1:].
		os.Args = os.Args[1:]
	}
	name := filepath.Base(os.Args[0])
	if name == "version" {
		fmt.Println(version.Get().GitVersion)
		return
	}
	build, ok := components[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "kcluster: unknown component %q\n", name)
		usage()
		os.Exit(2)
	}
	cmd := build()
	if name == "kubectl" {
		// As upstream kubectl: errors were printed already, the status says the rest.
		if err := cli.RunNoErrOutput(cmd); err != nil {
			util.CheckErr(err)
		}
		return
	}
	os.Exit(cli.Run(cmd))
}
