package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cachev1alpha1 "github.com/kubeflake/kubeflake/examples/modelcache/api/v1alpha1"
)

var _ = Describe("ModelCache serving", Label("serving"), func() {
	It("warms the iris2 cache for inference", func() {
		mc := &cachev1alpha1.ModelCache{
			ObjectMeta: metav1.ObjectMeta{Name: "iris2", Labels: map[string]string{modelLabel: "iris"}},
			Spec:       cachev1alpha1.ModelCacheSpec{Model: "iris", Shards: 2},
		}
		createCache(mc)
		waitReady(mc)
		Expect(mc.Status.ReadyShards).To(Equal(int32(2)))
	})

	It("batches inference through the mnist cache", func() {
		mc := &cachev1alpha1.ModelCache{
			ObjectMeta: metav1.ObjectMeta{Name: "mnist", Labels: map[string]string{modelLabel: "mnist"}},
			Spec:       cachev1alpha1.ModelCacheSpec{Model: "mnist", Shards: 2},
		}
		createCache(mc)
		waitReady(mc)
		Expect(mc.Status.ReadyShards).To(Equal(int32(2)))
	})

	Context("when a cache is resharded", func() {
		It("re-warms the cache with the new shard count", func() {
			mc := newCache("llama-", "llama-7b", 2)
			createCache(mc)
			waitReady(mc)

			orig := mc.DeepCopy()
			mc.Spec.Shards = 3
			Expect(k8sClient.Patch(ctx, mc, client.MergeFrom(orig))).To(Succeed())
			Expect(mc.Generation).To(Equal(int64(2)))

			waitReady(mc)
			Expect(mc.Status.ReadyShards).To(Equal(int32(3)))
			Expect(mc.Status.ObservedGeneration).To(Equal(int64(2)))
		})
	})
})
