// Finds every listable resource type the API server serves: core, every API group, CRDs and
// aggregated APIs. Uses aggregated discovery (two requests) and falls back to the per-group
// documents on servers that do not offer it.
import type { KubeApi } from './kube.ts';

/** One REST resource type, at its group's preferred version. */
export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  /** Plural REST name, e.g. "deployments". */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

export interface Discovery {
  types: ResourceType[];
  /** Groups or versions that could not be read (an aggregated API that is down...). */
  errors: { resource: string; message: string }[];
}

/** Types never worth listing: synthetic, without UIDs, or computed on each request. */
const UNLISTABLE = new Set(['componentstatuses']);

export function apiVersionOf(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** "deployments.apps", or "configmaps" for the core group: how kubectl names a type. */
export function typeName(t: { group: string; resource: string }): string {
  return t.group ? `${t.resource}.${t.group}` : t.resource;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The collection path of a type, across all namespaces or inside one. */
export function collectionPath(t: { group: string; version: string; resource: string }, namespace?: string): string {
  const prefix = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return namespace ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${t.resource}` : `${prefix}/${t.resource}`;
}

/** The path of one object, given its apiVersion and REST resource. */
export function objectPath(o: { apiVersion: string; resource: string; namespace?: string; name: string }): string {
  const group = groupOf(o.apiVersion);
  const version = group ? o.apiVersion.slice(group.length + 1) : o.apiVersion;
  return `${collectionPath({ group, version, resource: o.resource }, o.namespace || undefined)}/${encodeURIComponent(o.name)}`;
}

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

interface AggregatedList {
  kind?: string;
  items?: {
    metadata?: { name?: string };
    versions?: {
      version: string;
      freshness?: string;
      resources?: { resource: string; scope: string; verbs?: string[]; responseKind?: { kind?: string } }[];
    }[];
  }[];
}

/** Discovers every type that can be listed, at each group's preferred version. */
export async function discoverResourceTypes(api: KubeApi, signal?: AbortSignal): Promise<Discovery> {
  const [core, groups] = await Promise.all([
    api.request<AggregatedList>('GET', '/api', { accept: AGGREGATED, signal, timeoutMs: 30_000 }),
    api.request<AggregatedList>('GET', '/apis', { accept: AGGREGATED, signal, timeoutMs: 30_000 }),
  ]);
  if (core.kind === 'APIGroupDiscoveryList' && groups.kind === 'APIGroupDiscoveryList') {
    return fromAggregated([...(core.items ?? []), ...(groups.items ?? [])]);
  }
  return legacyDiscovery(api, signal);
}

/** Pure: aggregated discovery documents to resource types. */
export function fromAggregated(items: NonNullable<AggregatedList['items']>): Discovery {
  const types: ResourceType[] = [];
  const errors: Discovery['errors'] = [];
  for (const g of items) {
    const group = g.metadata?.name ?? '';
    // Versions come in preference order; the same objects are served at every version.
    const preferred = g.versions?.[0];
    if (!preferred) continue;
    if (preferred.freshness === 'Stale') {
      errors.push({ resource: apiVersionOf({ group, version: preferred.version }), message: 'discovery is stale: the API service behind this group is not answering' });
      continue;
    }
    for (const r of preferred.resources ?? []) {
      if (!keep(r.resource, r.verbs)) continue;
      types.push({
        group,
        version: preferred.version,
        resource: r.resource,
        kind: r.responseKind?.kind ?? r.resource,
        namespaced: r.scope === 'Namespaced',
        verbs: r.verbs ?? [],
      });
    }
  }
  return { types, errors };
}

function keep(resource: string, verbs: string[] | undefined): boolean {
  return !resource.includes('/') && !UNLISTABLE.has(resource) && (verbs ?? []).includes('list');
}

interface ResourceList {
  resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

async function legacyDiscovery(api: KubeApi, signal?: AbortSignal): Promise<Discovery> {
  const errors: Discovery['errors'] = [];
  const versions: { group: string; version: string }[] = [];
  const core = await api.request<{ versions?: string[] }>('GET', '/api', { signal });
  if (core.versions?.[0]) versions.push({ group: '', version: core.versions[0] });
  const groups = await api.request<{ groups?: { name: string; preferredVersion?: { version: string } }[] }>('GET', '/apis', { signal });
  for (const g of groups.groups ?? []) {
    if (g.preferredVersion) versions.push({ group: g.name, version: g.preferredVersion.version });
  }
  const types: ResourceType[] = [];
  await Promise.all(
    versions.map(async (gv) => {
      const path = gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
      try {
        const list = await api.request<ResourceList>('GET', path, { signal, timeoutMs: 30_000 });
        for (const r of list.resources ?? []) {
          if (!keep(r.name, r.verbs)) continue;
          types.push({ ...gv, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] });
        }
      } catch (err) {
        errors.push({ resource: apiVersionOf(gv), message: (err as Error).message });
      }
    }),
  );
  types.sort((a, b) => typeName(a).localeCompare(typeName(b)));
  return { types, errors };
}
