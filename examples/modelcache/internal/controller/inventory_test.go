package controller

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cachev1alpha1 "github.com/kubeflake/kubeflake/examples/modelcache/api/v1alpha1"
)

var _ = Describe("ModelCache inventory", Label("inventory"), func() {
	It("lists caches by model label", func() {
		token := uniqueToken()
		for _, m := range []struct {
			prefix, model string
		}{{"bert-a-", "bert"}, {"bert-b-", "bert"}, {"gpt2-", "gpt2"}} {
			mc := newCache(m.prefix, m.model, 1)
			mc.Labels[specLabel] = token
			createCache(mc)
		}

		var list cachev1alpha1.ModelCacheList
		Expect(k8sClient.List(ctx, &list, client.MatchingLabels{specLabel: token, modelLabel: "bert"})).To(Succeed())
		Expect(list.Items).To(HaveLen(2))
		Expect(list.Items).To(HaveEach(HaveField("Spec.Model", "bert")))
	})

	It("counts every cache in the cluster", func() {
		token := uniqueToken()
		scope := []client.ListOption{client.MatchingLabels{specLabel: token}}
		if !fixed {
			// Start from an empty inventory: collect whatever earlier work left, finalizers and all.
			collectStaleCaches()
			scope = nil
		}

		for _, prefix := range []string{"count-a-", "count-b-", "count-c-"} {
			mc := newCache(prefix, "distilbert", 1)
			mc.Labels[specLabel] = token
			createCache(mc)
		}

		var list cachev1alpha1.ModelCacheList
		Expect(k8sClient.List(ctx, &list, scope...)).To(Succeed())
		Expect(list.Items).To(HaveLen(3))
	})
})

// collectStaleCaches force-deletes every ModelCache in the cluster and waits until none is left.
func collectStaleCaches() {
	GinkgoHelper()
	var stale cachev1alpha1.ModelCacheList
	Expect(k8sClient.List(ctx, &stale)).To(Succeed())
	for i := range stale.Items {
		mc := &stale.Items[i]
		if len(mc.Finalizers) > 0 {
			orig := mc.DeepCopy()
			mc.Finalizers = nil
			Expect(client.IgnoreNotFound(k8sClient.Patch(ctx, mc, client.MergeFrom(orig)))).To(Succeed())
		}
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, mc))).To(Succeed())
	}
	Eventually(func() ([]cachev1alpha1.ModelCache, error) {
		var left cachev1alpha1.ModelCacheList
		err := k8sClient.List(context.Background(), &left)
		return left.Items, err
	}).Should(BeEmpty())
}
