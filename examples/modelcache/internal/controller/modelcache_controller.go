// Package controller holds the ModelCache controller: it warms a cache's shards after a random
// delay, reports status, and drains the shards before letting a deleted cache go.
package controller

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	cachev1alpha1 "github.com/kubeflake/kubeflake/examples/modelcache/api/v1alpha1"
)

// Defaults for ModelCacheReconciler fields left zero: a generation loads its shards from the
// node's cache in 150 ms, or from cold storage in 700 ms, one time in three.
const (
	DefaultWarmup        = 150 * time.Millisecond
	DefaultColdWarmup    = 700 * time.Millisecond
	DefaultColdChance    = 1.0 / 3
	DefaultDrainPerShard = 50 * time.Millisecond
)

// ModelCacheReconciler reconciles ModelCache objects.
type ModelCacheReconciler struct {
	client.Client

	// Warmup is the time a generation takes to load its shards; ColdWarmup the time from cold
	// storage, which happens with chance ColdChance.
	Warmup, ColdWarmup time.Duration
	ColdChance         float64
	// DrainPerShard is how long each shard takes to drain once the cache is deleted.
	DrainPerShard time.Duration

	mu sync.Mutex
	// Deadlines live in memory, keyed by UID: a restarted operator starts the work over.
	warmups map[types.UID]warmup
	drains  map[types.UID]time.Time
}

type warmup struct {
	generation int64
	readyAt    time.Time
}

// +kubebuilder:rbac:groups=cache.kubeflake.dev,resources=modelcaches,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=cache.kubeflake.dev,resources=modelcaches/status,verbs=get;update;patch

// Reconcile moves one ModelCache towards Ready, or drains it when it is being deleted.
func (r *ModelCacheReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var mc cachev1alpha1.ModelCache
	if err := r.Get(ctx, req.NamespacedName, &mc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !mc.DeletionTimestamp.IsZero() {
		return r.drain(ctx, &mc)
	}
	if !controllerutil.ContainsFinalizer(&mc, cachev1alpha1.Finalizer) {
		orig := mc.DeepCopy()
		controllerutil.AddFinalizer(&mc, cachev1alpha1.Finalizer)
		// The update event brings the cache back here to start warming.
		return ctrl.Result{}, r.Patch(ctx, &mc, client.MergeFrom(orig))
	}
	if mc.Status.Ready && mc.Status.ObservedGeneration == mc.Generation {
		return ctrl.Result{}, nil
	}

	readyAt := r.warmupDeadline(mc.UID, mc.Generation)
	if wait := time.Until(readyAt); wait > 0 {
		if mc.Status.Phase != cachev1alpha1.PhaseWarming || mc.Status.Ready {
			orig := mc.DeepCopy()
			mc.Status.Phase = cachev1alpha1.PhaseWarming
			mc.Status.Ready = false
			mc.Status.ReadyShards = 0
			if err := r.Status().Patch(ctx, &mc, client.MergeFrom(orig)); err != nil {
				return ctrl.Result{}, ignoreGone(err)
			}
		}
		return ctrl.Result{RequeueAfter: wait}, nil
	}

	orig := mc.DeepCopy()
	mc.Status.Phase = cachev1alpha1.PhaseReady
	mc.Status.Ready = true
	mc.Status.ReadyShards = mc.Spec.Shards
	mc.Status.ObservedGeneration = mc.Generation
	if err := r.Status().Patch(ctx, &mc, client.MergeFrom(orig)); err != nil {
		return ctrl.Result{}, ignoreGone(err)
	}
	logf.FromContext(ctx).V(1).Info("cache ready", "shards", mc.Spec.Shards, "generation", mc.Generation)
	return ctrl.Result{}, nil
}

// drain keeps the finalizer until every shard has drained, then releases the cache.
func (r *ModelCacheReconciler) drain(ctx context.Context, mc *cachev1alpha1.ModelCache) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(mc, cachev1alpha1.Finalizer) {
		r.forget(mc.UID)
		return ctrl.Result{}, nil
	}
	if mc.Status.Phase != cachev1alpha1.PhaseDraining {
		orig := mc.DeepCopy()
		mc.Status.Phase = cachev1alpha1.PhaseDraining
		mc.Status.Ready = false
		if err := r.Status().Patch(ctx, mc, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, ignoreGone(err)
		}
	}
	if wait := time.Until(r.drainDeadline(mc.UID, mc.Spec.Shards)); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	orig := mc.DeepCopy()
	controllerutil.RemoveFinalizer(mc, cachev1alpha1.Finalizer)
	if err := r.Patch(ctx, mc, client.MergeFrom(orig)); err != nil {
		return ctrl.Result{}, ignoreGone(err)
	}
	r.forget(mc.UID)
	logf.FromContext(ctx).V(1).Info("cache drained", "shards", mc.Spec.Shards)
	return ctrl.Result{}, nil
}

func (r *ModelCacheReconciler) warmupDeadline(uid types.UID, generation int64) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.warmups[uid]; ok && w.generation == generation {
		return w.readyAt
	}
	warm, cold, chance := r.Warmup, r.ColdWarmup, r.ColdChance
	if warm <= 0 && cold <= 0 {
		warm, cold, chance = DefaultWarmup, DefaultColdWarmup, DefaultColdChance
	}
	delay := warm
	if rand.Float64() < chance {
		delay = cold
	}
	if r.warmups == nil {
		r.warmups = map[types.UID]warmup{}
	}
	w := warmup{generation: generation, readyAt: time.Now().Add(delay)}
	r.warmups[uid] = w
	return w.readyAt
}

func (r *ModelCacheReconciler) drainDeadline(uid types.UID, shards int32) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d, ok := r.drains[uid]; ok {
		return d
	}
	perShard := r.DrainPerShard
	if perShard <= 0 {
		perShard = DefaultDrainPerShard
	}
	if r.drains == nil {
		r.drains = map[types.UID]time.Time{}
	}
	d := time.Now().Add(time.Duration(shards) * perShard)
	r.drains[uid] = d
	return d
}

func (r *ModelCacheReconciler) forget(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.warmups, uid)
	delete(r.drains, uid)
}

// ignoreGone drops the error of writing to a cache someone else already removed.
func ignoreGone(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// SetupWithManager registers the controller with the manager.
func (r *ModelCacheReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&cachev1alpha1.ModelCache{}).
		Named("modelcache").
		Complete(r)
}
