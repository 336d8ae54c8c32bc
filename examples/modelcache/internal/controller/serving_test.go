package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// tokenizerLoad is how long the bloom spec's tokenizer takes before it creates its cache.
const tokenizerLoad = 100 * time.Millisecond

var _ = Describe("ModelCache serving", Label("serving"), func() {
	It("warms the iris2 cache for inference", func() {
		mc := namedCache("iris2", "iris", 2)
		createCache(mc)
		waitReady(mc)
		Expect(mc.Status.ReadyShards).To(Equal(int32(2)))
	})

	It("batches inference through the mnist cache", func() {
		mc := namedCache("mnist", "mnist", 2)
		createCache(mc)
		waitReady(mc)
		Expect(mc.Status.ReadyShards).To(Equal(int32(2)))
	})

	It("transcribes through the whisper cache", func() {
		mc := namedCache("whisper", "whisper", 2)
		createCache(mc)
		waitReady(mc)
		Expect(mc.Status.ReadyShards).To(Equal(int32(2)))
	})

	It("warms the bloom cache once its tokenizer has loaded", func() {
		// The tokenizer takes 100 ms to load before the cache is created: long enough, on an idle
		// machine, for a bloom retired just before to have drained (50 ms a shard).
		time.Sleep(tokenizerLoad)
		mc := namedCache("bloom", "bloom", 1)
		createCache(mc)
		waitReady(mc)
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
