package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cachev1alpha1 "github.com/kubeflake/kubeflake/examples/modelcache/api/v1alpha1"
)

var _ = Describe("ModelCache status", Label("status"), func() {
	It("reports ready shortly after creation", func() {
		// The controller warms shards in 150 ms, or 700 ms from cold storage one time in three:
		// 450 ms loses to every cold start. (The margin over 150 ms keeps a busy machine from
		// losing more often: the flake fires about one run in three, idle or loaded.)
		timeout := 450 * time.Millisecond
		if fixed {
			timeout = 10 * time.Second
		}
		mc := newCache("whisper-", "whisper-tiny", 1)
		createCache(mc)
		created := time.Now()
		Eventually(isReady(mc)).WithTimeout(timeout).Should(BeTrue())
		GinkgoWriter.Printf("ready %s after creation (timeout %s)\n", time.Since(created).Round(time.Millisecond), timeout)
	})

	It("keeps user annotations through reconciliation", func() {
		mc := newCache("clip-", "clip-vit", 1)
		mc.Annotations = map[string]string{"team.example.com/owner": "vision"}
		createCache(mc)
		waitReady(mc)
		Expect(mc.Annotations).To(HaveKeyWithValue("team.example.com/owner", "vision"))

		var again cachev1alpha1.ModelCache
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(mc), &again)).To(Succeed())
		Expect(again.Annotations).To(HaveKeyWithValue("team.example.com/owner", "vision"))
	})
})
