package controller

import (
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The platform keeps tenant defaults in this ConfigMap.
const (
	defaultsNamespace = "modelcache-system"
	defaultsName      = "modelcache-defaults"
)

var _ = Describe("ModelCache platform defaults", Label("defaults"), func() {
	It("publishes the default shard count for tenants", func() {
		namespace := defaultsNamespace
		if fixed {
			// Fixed: its own namespace, removed when the spec ends.
			ns := newNamespace(defaultsNamespace + "-")
			DeferCleanup(k8sClient.Delete, ctx, ns)
			namespace = ns.Name
		} else {
			ensure(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}})
		}
		defaults := defaultsConfigMap(namespace)
		ensure(defaults)
		if fixed {
			// Deleting a namespace removes nothing in it under envtest (no namespace controller): delete what it made.
			DeferCleanup(k8sClient.Delete, ctx, defaults)
		}

		var got corev1.ConfigMap
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: defaultsName}, &got)).To(Succeed())
		Expect(got.Data).To(HaveKeyWithValue("shards", "3"))
	})
})

var _ = Describe("ModelCache provisioning", Label("defaults"), func() {
	It("sizes a new cache from the platform defaults", func() {
		namespace := defaultsNamespace
		if fixed {
			// Fixed: seeds the defaults it reads instead of relying on another spec.
			ns := newNamespace(defaultsNamespace + "-")
			DeferCleanup(k8sClient.Delete, ctx, ns)
			namespace = ns.Name
			seeded := defaultsConfigMap(namespace)
			ensure(seeded)
			DeferCleanup(k8sClient.Delete, ctx, seeded)
		}

		var defaults corev1.ConfigMap
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: defaultsName}, &defaults)).To(Succeed())
		shards, err := strconv.Atoi(defaults.Data["shards"])
		Expect(err).NotTo(HaveOccurred())

		mc := newCache("phi-", "phi-2", int32(shards))
		createCache(mc)
		waitReady(mc)
		Expect(mc.Status.ReadyShards).To(Equal(int32(3)))
	})
})

func defaultsConfigMap(namespace string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: defaultsName},
		Data:       map[string]string{"shards": "3"},
	}
}

// ensure creates obj, accepting one that is already there from an earlier run.
func ensure(obj client.Object) {
	GinkgoHelper()
	err := k8sClient.Create(ctx, obj)
	if apierrors.IsAlreadyExists(err) {
		return
	}
	Expect(err).NotTo(HaveOccurred())
}
