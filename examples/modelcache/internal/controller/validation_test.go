package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cachev1alpha1 "github.com/kubeflake/kubeflake/examples/modelcache/api/v1alpha1"
)

var _ = Describe("ModelCache validation", Label("validation"), func() {
	Context("on create", func() {
		It("rejects a cache without a model name", func() {
			mc := newCache("nameless-", "", 1)
			err := k8sClient.Create(ctx, mc)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring("spec.model"))
		})

		It("rejects more shards than a node can hold", func() {
			mc := newCache("huge-", "falcon-180b", 257)
			err := k8sClient.Create(ctx, mc)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected Invalid, got %v", err)
			Expect(err.Error()).To(ContainSubstring("spec.shards"))
		})

		It("handles a cold-standby cache with zero shards", func() {
			mc := &cachev1alpha1.ModelCache{
				ObjectMeta: metav1.ObjectMeta{Name: "standby"},
				Spec:       cachev1alpha1.ModelCacheSpec{Model: "mistral-7b", Shards: 0},
			}
			if fixed {
				// Fixed: the CRD requires at least one shard, so the API server rejects it.
				err := k8sClient.Create(ctx, mc)
				Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected Invalid, got %v", err)
				return
			}
			Expect(k8sClient.Create(ctx, mc)).To(Succeed())
			created.addCache(mc)
			DeferCleanup(deleteAndWait, mc)
			Expect(mc.Spec.Shards).To(BeZero())
		})
	})
})
