// The audit policy every control plane kubeflake configures runs with (the envtest kube-apiserver
// shim, the local control plane, a kind cluster it creates): the API server's own record of what
// the suite did, which the hunt reads as its strongest evidence (src/record/ reads it back).
//
// What the hunt needs is who did what to which object, when, and with what answer: the verb, the
// object reference, the response code and reason, the user and user agent, server timestamps.
// That is the Metadata level: no request or response bodies, so no Secret's data and no object
// content ever reach the file, and the API server never writes a bearer token into an event.
// Rules are tried in order and the first match decides; everything the rules above the last one
// do not drop is kept at Metadata.
//
// Imported by the shim program (kube-apiserver-shim.ts): this file imports nothing.

/** The policy the API server reads (`--audit-policy-file`): YAML, its comments say why each rule is there. */
export const AUDIT_POLICY = `# kubeflake's audit policy: the API server's record of what a test suite did (src/record/policy.ts).
apiVersion: audit.k8s.io/v1
kind: Policy
# One event a request, when its response is complete (or the handler panicked): RequestReceived would
# double every line, and ResponseStarted only comes for long-running requests, which carry no
# evidence the completed event does not.
omitStages:
  - RequestReceived
  - ResponseStarted
rules:
  # kubeflake's own requests (its snapshots, watches and cleanup) are not the suite's doing. It has an
  # identity of its own wherever it can: the user "kubeflake" (its token in envtest, its client
  # certificate on the local control plane). A policy cannot match a user agent: on a kind cluster,
  # where kubeflake shares the admin's identity, its own writes are told apart by their user agent
  # kubeflake/<version> when the record is read.
  - level: None
    users: ["kubeflake"]
  # The API server's own loopback client: it bootstraps its default namespaces, RBAC roles and
  # priority classes as it starts, and its endpoint reconciler rewrites the kubernetes Service's
  # endpoints every few seconds. None of it is a test's doing.
  - level: None
    users: ["system:apiserver"]
  # Reads of collections: every informer (the suite's manager, the controllers, kubeflake's watch)
  # lists and watches all the time. A leak or a race is made by writes; a single GET is kept below.
  - level: None
    verbs: ["watch", "list"]
  # Leader election and node heartbeats renew a Lease every few seconds. Creating or deleting a
  # Lease is kept: a manager a spec started and never stopped leaves its Lease behind.
  - level: None
    verbs: ["get", "update", "patch"]
    resources:
      - group: "coordination.k8s.io"
        resources: ["leases"]
  # Events are a log of their own, written by every controller on every reconcile.
  - level: None
    resources:
      - group: ""
        resources: ["events"]
      - group: "events.k8s.io"
        resources: ["events"]
  # Health checks, version, discovery, OpenAPI and metrics: asked by every client, about no object.
  - level: None
    nonResourceURLs: ["*"]
  # System components' status churn: kubelets report their node and pods, controllers the status of
  # what they manage and the endpoints of every Service (in kind the controllers run as kube-system
  # service accounts, on the local control plane as system:kube-controller-manager). What a status
  # says is in the snapshots; a controller's creates and deletes (a namespace emptied, garbage
  # collected) and its other writes (a finalizer removed) are kept. A rule names each group: the
  # policy matches groups exactly, and a suite's own groups are not known here.
  - level: None
    verbs: ["update", "patch"]
    userGroups: ["system:nodes", "system:serviceaccounts:kube-system"]
    resources: &statusChurn
      - group: ""
        resources: ["nodes", "*/status", "endpoints"]
      - group: "apps"
        resources: ["*/status"]
      - group: "batch"
        resources: ["*/status"]
      - group: "autoscaling"
        resources: ["*/status"]
      - group: "policy"
        resources: ["*/status"]
      - group: "networking.k8s.io"
        resources: ["*/status"]
      - group: "discovery.k8s.io"
        resources: ["endpointslices"]
      - group: "storage.k8s.io"
        resources: ["*/status"]
      - group: "certificates.k8s.io"
        resources: ["*/status"]
      - group: "apiregistration.k8s.io"
        resources: ["*/status"]
      - group: "apiextensions.k8s.io"
        resources: ["*/status"]
  # The same churn from the controllers' and scheduler's own identities (the local control plane).
  - level: None
    verbs: ["update", "patch"]
    users: ["system:kube-controller-manager", "system:kube-scheduler"]
    resources: *statusChurn
  # System components' single reads (a controller's GET before it acts) are their business; a test's
  # GET stays: a 404 on a name another spec creates is a state dependence.
  - level: None
    verbs: ["get"]
    userGroups: ["system:nodes", "system:serviceaccounts:kube-system"]
  # The same reads from the system components' own identities.
  - level: None
    verbs: ["get"]
    users: ["system:kube-controller-manager", "system:kube-scheduler", "system:kube-proxy"]
  # Everything else: create, update, patch, delete and deletecollection by anyone else, and GETs by
  # the suite, with the verb, object, user, user agent, response code and reason, and times.
  - level: Metadata
`;

/** The audit log's size bounds, in the API server's flag units. */
export const AUDIT_LOG_BOUNDS = {
  /**
   * Megabytes a log file may reach before the server rotates it (renames it aside with a timestamp
   * and starts a new one). The example suite writes well under this in a run.
   */
  maxSizeMb: 100,
  /**
   * Rotated files the server keeps; at the next rotation it deletes the oldest, and those lines are
   * lost: whoever reads the log says so when it finds a rotated file beside it (it cannot tell how
   * many were deleted before).
   */
  maxBackups: 1,
} as const;

/**
 * The API server flags of the record: the log backend, JSON lines, written in the request's own
 * goroutine (`blocking`), so a request's event is in the file before the server has finished with
 * it, and a server that has exited has written every event (measured against `batch`: README).
 */
export function auditLogFlags(policyFile: string, logFile: string): string[] {
  return [
    `--audit-policy-file=${policyFile}`,
    `--audit-log-path=${logFile}`,
    '--audit-log-format=json',
    '--audit-log-mode=blocking',
    `--audit-log-maxsize=${AUDIT_LOG_BOUNDS.maxSizeMb}`,
    `--audit-log-maxbackup=${AUDIT_LOG_BOUNDS.maxBackups}`,
    // Age never decides: the size bound does, and kubeflake copies the log before it could age.
    '--audit-log-maxage=0',
  ];
}

/** Flags a suite may have set to record its own control plane: kubeflake then leaves the record to it. */
export function hasOwnAuditConfig(args: readonly string[]): boolean {
  return args.some((arg) => /^--audit-(policy-file|log-path|webhook-config-file)(=|$)/.test(arg));
}
