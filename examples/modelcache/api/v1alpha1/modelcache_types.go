package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Finalizer holds a ModelCache until its shards are drained.
const Finalizer = "cache.kubeflake.dev/drain-shards"

// Phases a ModelCache goes through, as reported in status.phase.
const (
	PhaseWarming  = "Warming"
	PhaseReady    = "Ready"
	PhaseDraining = "Draining"
)

// ModelCacheSpec is what a user asks for: a model kept warm in a number of shards.
type ModelCacheSpec struct {
	// Model is the name of the model the cache serves.
	Model string `json:"model"`
	// Shards is how many shards hold the model; more shards take longer to warm and to drain.
	Shards int32 `json:"shards"`
}

// ModelCacheStatus is what the controller observed.
type ModelCacheStatus struct {
	// Phase is Warming, Ready or Draining.
	Phase string `json:"phase,omitempty"`
	// Ready is true once every shard of the observed generation is loaded.
	Ready bool `json:"ready,omitempty"`
	// ReadyShards is how many shards are loaded.
	ReadyShards int32 `json:"readyShards,omitempty"`
	// ObservedGeneration is the generation the Ready status describes.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// ModelCache keeps a model warm in memory across shards. Cluster-scoped.
type ModelCache struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ModelCacheSpec   `json:"spec,omitempty"`
	Status ModelCacheStatus `json:"status,omitempty"`
}

// ModelCacheList is a list of ModelCaches.
type ModelCacheList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ModelCache `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ModelCache{}, &ModelCacheList{})
}
