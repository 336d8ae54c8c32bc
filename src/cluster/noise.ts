// What the cluster creates and removes by itself is not a test's leak. The default rules below
// are the whole list (each says why); users add their own with the same one-line syntax:
//
//   TYPE [[NAMESPACE/]NAME] [KEY=VALUE,...]
//
// TYPE is a resource ("configmaps"), a resource with its group ("leases.coordination.k8s.io"),
// a kind ("ConfigMap") or "*". NAMESPACE and NAME are globs ("*" any run, "?" one character);
// without a slash the pattern is the name in any namespace. KEY=VALUE pairs must all be labels
// of the object (VALUE "*" only asks for the label). Examples:
//   events                      every Event
//   configmaps */kube-root-ca.crt
//   Secret ci-*/*               every Secret in namespaces starting with "ci-"
//   * monitoring/*              everything in namespace monitoring
import type { SnapshotObject } from '../model.ts';
import { groupOf } from './discovery.ts';

export interface NoiseRule {
  /** Short identifier shown when an object is ignored. */
  id: string;
  /** Why the cluster makes this by itself. */
  why: string;
  /** Resource, resource.group, Kind or "*". */
  type: string;
  /** Namespace glob; absent means any (cluster-scoped included). */
  namespace?: string;
  /** Name glob; absent means any. */
  name?: string;
  /** Labels the object must carry; "*" asks only for the key. */
  labels?: Record<string, string>;
}

export const DEFAULT_NOISE_RULES: readonly NoiseRule[] = [
  {
    id: 'events',
    type: 'events',
    why: 'Events are written by the API server and controllers all the time and expire on their own (1 h TTL).',
  },
  {
    id: 'leases',
    type: 'leases.coordination.k8s.io',
    why: 'Leases are leader election, node heartbeats and API server identity; they renew and rotate constantly.',
  },
  {
    id: 'default-service-account',
    type: 'serviceaccounts',
    name: 'default',
    why: 'The service account controller creates "default" in every new namespace; it goes with the namespace.',
  },
  {
    id: 'root-ca-configmap',
    type: 'configmaps',
    name: 'kube-root-ca.crt',
    why: 'The root CA publisher creates kube-root-ca.crt in every new namespace; it goes with the namespace.',
  },
  {
    id: 'default-service-endpoints',
    type: '*',
    namespace: 'default',
    name: 'kubernetes*',
    why: 'The API server reconciles the endpoints and endpoint slices of the default "kubernetes" service.',
  },
  {
    id: 'endpoints',
    type: 'endpoints',
    why: 'The endpoints controller mirrors every Service into an Endpoints object (without owner reference); the Service itself is reported.',
  },
  {
    id: 'service-ip-addresses',
    type: 'ipaddresses.networking.k8s.io',
    why: 'The API server allocates an IPAddress for each Service cluster IP and releases it with the Service; the Service itself is reported.',
  },
  {
    id: 'controller-service-accounts',
    type: 'serviceaccounts',
    namespace: 'kube-system',
    why: 'kube-controller-manager creates one service account per controller in kube-system when it (re)starts.',
  },
  {
    id: 'automanaged-apiservices',
    type: 'apiservices.apiregistration.k8s.io',
    labels: { 'kube-aggregator.kubernetes.io/automanaged': '*' },
    why: 'The API server registers an APIService for every group-version a CRD serves and removes it with the CRD; the CRD itself is reported.',
  },
  {
    id: 'flowschemas',
    type: 'flowschemas.flowcontrol.apiserver.k8s.io',
    why: 'The API server maintains its API priority and fairness configuration and recreates the mandatory objects.',
  },
  {
    id: 'priority-levels',
    type: 'prioritylevelconfigurations.flowcontrol.apiserver.k8s.io',
    why: 'The API server maintains its API priority and fairness configuration and recreates the mandatory objects.',
  },
];

/** Parses one user ignore rule (syntax at the top of this file). */
export function parseIgnoreRule(text: string): NoiseRule {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0 || parts.length > 3) {
    throw new Error(`ignore rule "${text}" is not "TYPE [[NAMESPACE/]NAME] [KEY=VALUE,...]" (e.g. "configmaps my-ns/*")`);
  }
  const [type, target, labelText] = parts as [string, string | undefined, string | undefined];
  const rule: NoiseRule = { id: `user: ${text.trim()}`, why: 'ignored by a user rule', type };
  if (target !== undefined && target !== '*') {
    const slash = target.indexOf('/');
    if (slash >= 0) {
      rule.namespace = target.slice(0, slash);
      rule.name = target.slice(slash + 1) || '*';
    } else {
      rule.name = target;
    }
  }
  if (labelText !== undefined) {
    rule.labels = {};
    for (const pair of labelText.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`ignore rule "${text}": label "${pair}" is not KEY=VALUE`);
      rule.labels[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return rule;
}

const globCache = new Map<string, RegExp>();
function glob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    globCache.set(pattern, re);
  }
  return re;
}

function typeMatches(rule: string, o: SnapshotObject): boolean {
  if (rule === '*') return true;
  const r = rule.toLowerCase();
  const group = groupOf(o.apiVersion).toLowerCase();
  const resource = o.resource.toLowerCase();
  const kind = o.kind.toLowerCase();
  return r === resource || r === kind || (group !== '' && (r === `${resource}.${group}` || r === `${kind}.${group}`));
}

/** The first rule an object matches, if any. */
export function matchNoise(o: SnapshotObject, rules: readonly NoiseRule[]): NoiseRule | undefined {
  for (const rule of rules) {
    if (!typeMatches(rule.type, o)) continue;
    if (rule.namespace !== undefined && !glob(rule.namespace).test(o.namespace ?? '')) continue;
    if (rule.name !== undefined && !glob(rule.name).test(o.name)) continue;
    if (rule.labels) {
      const labels = o.labels ?? {};
      const ok = Object.entries(rule.labels).every(([k, v]) => k in labels && (v === '*' || labels[k] === v));
      if (!ok) continue;
    }
    return rule;
  }
  return undefined;
}
