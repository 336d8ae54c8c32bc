package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("ModelCache tenancy", Label("tenancy"), func() {
	It("grants a tenant namespace read access to its caches", func() {
		ns := newNamespace("modelcache-tenant-")
		config := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "tenant-config"},
			Data:       map[string]string{"models": "iris,bert"},
		}
		Expect(k8sClient.Create(ctx, config)).To(Succeed())
		credentials := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "registry-credentials"},
			StringData: map[string]string{"token": "not-a-real-token"},
		}
		Expect(k8sClient.Create(ctx, credentials)).To(Succeed())

		reader := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "modelcache-tenant-reader-"},
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{"cache.kubeflake.dev"},
				Resources: []string{"modelcaches"},
				Verbs:     []string{"get", "list", "watch"},
			}},
		}
		Expect(k8sClient.Create(ctx, reader)).To(Succeed())
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "modelcache-reader"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader.Name},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "tenant:" + ns.Name}},
		}
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		if fixed {
			// Fixed: remove the tenant again. Cleanups run last-registered first: the namespace's
			// contents go before it, as deleting a namespace removes nothing under envtest (no
			// namespace controller there).
			DeferCleanup(deleteAndWait, reader)
			DeferCleanup(k8sClient.Delete, ctx, ns)
			DeferCleanup(k8sClient.Delete, ctx, config)
			DeferCleanup(k8sClient.Delete, ctx, credentials)
			DeferCleanup(k8sClient.Delete, ctx, binding)
		}

		var got rbacv1.RoleBinding
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(binding), &got)).To(Succeed())
		Expect(got.RoleRef.Name).To(Equal(reader.Name))
	})
})
