package controller

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cachev1alpha1 "github.com/kubeflake/kubeflake/examples/modelcache/api/v1alpha1"
)

// specLabel marks the caches one spec made, so it can select exactly those.
const specLabel = "cache.kubeflake.dev/spec"

// modelLabel carries the model name, for selection by model.
const modelLabel = "cache.kubeflake.dev/model"

func objectKeyMeta(obj client.Object) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace()}
}

// uniqueToken tells this spec's objects apart from everything else in the cluster.
func uniqueToken() string {
	return utilrand.String(8)
}

// newCache builds a cache with a generated name under prefix.
func newCache(prefix, model string, shards int32) *cachev1alpha1.ModelCache {
	return &cachev1alpha1.ModelCache{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix, Labels: map[string]string{modelLabel: model}},
		Spec:       cachev1alpha1.ModelCacheSpec{Model: model, Shards: shards},
	}
}

// namedCache builds a cache with a fixed name, as the planted specs share one.
func namedCache(name, model string, shards int32) *cachev1alpha1.ModelCache {
	return &cachev1alpha1.ModelCache{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{modelLabel: model}},
		Spec:       cachev1alpha1.ModelCacheSpec{Model: model, Shards: shards},
	}
}

// createReadyToEvict creates a cache under a fixed name for a polluter to evict, and waits until
// it is ready; it is not deleted when the spec ends. Fixed: a generated name cannot collide, and
// the suite waits for every drain before it stops the manager.
func createReadyToEvict(name, model string, shards int32) *cachev1alpha1.ModelCache {
	GinkgoHelper()
	mc := namedCache(name, model, shards)
	if fixed {
		mc.Name, mc.GenerateName = "", name+"-"
	}
	Expect(k8sClient.Create(ctx, mc)).To(Succeed())
	created.addCache(mc)
	waitReady(mc)
	return mc
}

// createCache creates the cache and deletes it, waiting for the drain, when the spec ends.
func createCache(mc *cachev1alpha1.ModelCache) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, mc)).To(Succeed())
	created.addCache(mc)
	DeferCleanup(deleteAndWait, mc)
}

// deleteAndWait deletes obj and waits until the API server no longer has it.
func deleteAndWait(obj client.Object) {
	GinkgoHelper()
	Expect(client.IgnoreNotFound(k8sClient.Delete(context.Background(), obj))).To(Succeed())
	expectGone(obj, 10*time.Second)
}

func expectGone(obj client.Object, timeout time.Duration) {
	GinkgoHelper()
	key := client.ObjectKeyFromObject(obj)
	probe := obj.DeepCopyObject().(client.Object)
	Eventually(func() error {
		return k8sClient.Get(context.Background(), key, probe)
	}).WithTimeout(timeout).Should(WithTransform(apierrors.IsNotFound, BeTrue()),
		"%T %s is still there", obj, key)
}

// cacheStatus reads the current status of a cache.
func cacheStatus(mc *cachev1alpha1.ModelCache) func() (cachev1alpha1.ModelCacheStatus, error) {
	return func() (cachev1alpha1.ModelCacheStatus, error) {
		var got cachev1alpha1.ModelCache
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), &got)
		return got.Status, err
	}
}

func isReady(mc *cachev1alpha1.ModelCache) func() (bool, error) {
	return func() (bool, error) {
		var got cachev1alpha1.ModelCache
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), &got)
		return got.Status.Ready && got.Status.ObservedGeneration == got.Generation, err
	}
}

// waitReady waits until the controller reports every shard of the current generation loaded.
func waitReady(mc *cachev1alpha1.ModelCache) {
	GinkgoHelper()
	Eventually(isReady(mc)).Should(BeTrue(), "cache %s never became ready", mc.Name)
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), mc)).To(Succeed())
}

// newNamespace creates a namespace with a generated name; the fixed suite waits for it to go.
func newNamespace(prefix string) *corev1.Namespace {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	created.addNamespace(ns)
	return ns
}
