// Command modelcache runs the ModelCache operator against the cluster in KUBECONFIG.
package main

import (
	"flag"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cachev1alpha1 "github.com/kubeflake/kubeflake/examples/modelcache/api/v1alpha1"
	"github.com/kubeflake/kubeflake/examples/modelcache/internal/controller"
)

func main() {
	metricsAddr := flag.String("metrics-bind-address", "0", "address of the metrics endpoint; 0 turns it off")
	probeAddr := flag.String("health-probe-bind-address", ":8081", "address of the health probes")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		log.Error(err, "cannot register the built-in types")
		os.Exit(1)
	}
	if err := cachev1alpha1.AddToScheme(scheme); err != nil {
		log.Error(err, "cannot register the ModelCache types")
		os.Exit(1)
	}

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: *metricsAddr},
		HealthProbeBindAddress: *probeAddr,
	})
	if err != nil {
		log.Error(err, "cannot create the manager; is KUBECONFIG set?")
		os.Exit(1)
	}
	if err := (&controller.ModelCacheReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		log.Error(err, "cannot set up the ModelCache controller")
		os.Exit(1)
	}
	log.Info("starting the ModelCache operator")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "the manager stopped with an error")
		os.Exit(1)
	}
}
