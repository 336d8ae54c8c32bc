// An in-memory stand-in for the KubeApi boundary, for unit tests of snapshot, watch and cleanup
// logic: it serves aggregated discovery, paged metadata lists, DELETE with UID preconditions,
// finalizers, JSON patches, namespace finalize and scripted watch streams, and records every request.
import { ApiUnreachableError, KubeApiError, type HttpMethod, type KubeApi, type KubeRequest, type WatchRequest } from '../../src/cluster/kube.ts';
import type { ResourceType } from '../../src/cluster/discovery.ts';
import { collectionPath } from '../../src/cluster/discovery.ts';

export interface FakeObject {
  type: ResourceType;
  metadata: {
    name: string; namespace?: string; uid: string; finalizers?: string[]; deletionTimestamp?: string;
    creationTimestamp?: string; ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
    resourceVersion?: string;
  };
}

/** One scripted answer to a watch request: events delivered in order, then the stream ends (or holds open, or fails). */
export interface ScriptedWatch {
  /** Answers only a watch whose path matches. */
  path?: RegExp;
  events?: unknown[];
  /** Thrown instead of streaming (a 410 at the start, an unreachable server). */
  error?: Error;
  /** Keep the stream open after the events, until the watch is stopped. */
  hold?: boolean;
}

export class FakeCluster implements KubeApi {
  readonly server = 'https://fake:6443';
  types: ResourceType[];
  objects: FakeObject[] = [];
  requests: { method: HttpMethod; path: string; body?: unknown }[] = [];
  /** Requests answered before the server "goes away" (ECONNREFUSED from then on). */
  failAfter = Infinity;
  /** The resource version lists answer with. */
  resourceVersion = '1';
  /** Scripted watch streams, used up in order; a watch with no script left holds open until stopped. */
  watches: ScriptedWatch[] = [];
  watchRequests: string[] = [];
  constructor(types: ResourceType[]) {
    this.types = types;
  }
  add(type: ResourceType, metadata: FakeObject['metadata']): void {
    this.objects.push({ type, metadata });
  }
  find(uid: string): FakeObject | undefined {
    return this.objects.find((o) => o.metadata.uid === uid);
  }
  async request<T>(method: HttpMethod, path: string, req: KubeRequest = {}): Promise<T> {
    this.requests.push({ method, path, body: req.body });
    if (this.requests.length > this.failAfter) throw new ApiUnreachableError(this.server, 'ECONNREFUSED', `${method} ${path}`);
    await new Promise((r) => setImmediate(r));
    const [p, q = ''] = path.split('?');
    const query = new URLSearchParams(q);
    if (p === '/api' || p === '/apis') return this.#discovery(p === '/api') as T;
    for (const t of this.types) if (method === 'GET' && p === collectionPath(t)) return this.#list(t, query) as T;
    const o = this.objects.find((x) => objectPathOf(x) === p!.replace(/\/finalize$/, ''));
    if (o) return this.#act(method, p!, o, req) as T;
    throw new KubeApiError(404, 'NotFound', path, `${path} not found`);
  }
  #discovery(core: boolean) {
    const groups = new Map<string, ResourceType[]>();
    for (const t of this.types) if ((t.group === '') === core) groups.set(t.group, [...(groups.get(t.group) ?? []), t]);
    return {
      kind: 'APIGroupDiscoveryList',
      items: [...groups].map(([name, ts]) => ({
        metadata: { name },
        versions: [{ version: ts[0]!.version, resources: ts.map((t) => ({ resource: t.resource, scope: t.namespaced ? 'Namespaced' : 'Cluster', verbs: t.verbs, responseKind: { kind: t.kind } })) }],
      })),
    };
  }
  #list(t: ResourceType, query: URLSearchParams) {
    const all = this.objects.filter((o) => o.type === t);
    const limit = Number(query.get('limit') ?? all.length);
    const from = Number(query.get('continue') || 0);
    const page = all.slice(from, from + limit);
    const next = from + limit < all.length ? String(from + limit) : undefined;
    return { metadata: { resourceVersion: this.resourceVersion, continue: next }, items: page.map((o) => ({ metadata: structuredClone(o.metadata) })) };
  }
  #act(method: HttpMethod, path: string, o: FakeObject, req: KubeRequest) {
    if (method === 'GET') return { metadata: structuredClone(o.metadata), spec: { finalizers: ['kubernetes'] } };
    if (method === 'DELETE') {
      const pre = (req.body as { preconditions?: { uid?: string } } | undefined)?.preconditions?.uid;
      if (pre && pre !== o.metadata.uid) throw new KubeApiError(409, 'Conflict', path, 'Precondition failed: UID in precondition');
      if (o.metadata.finalizers?.length) o.metadata.deletionTimestamp ??= new Date().toISOString();
      else this.remove(o);
      return this.objects.includes(o) ? { metadata: structuredClone(o.metadata) } : {};
    }
    if (method === 'PATCH') {
      const ops = req.body as { op: string; path: string; value?: string }[];
      const test = ops.find((x) => x.op === 'test');
      if (test && test.value !== o.metadata.uid) throw new KubeApiError(422, 'Invalid', path, 'test failed');
      delete o.metadata.finalizers;
      if (o.metadata.deletionTimestamp) this.remove(o);
      return {};
    }
    if (method === 'PUT' && path.endsWith('/finalize')) {
      this.finalize(o);
      return {};
    }
    throw new KubeApiError(405, 'MethodNotAllowed', path, 'not supported by the fake');
  }
  remove(o: FakeObject): void {
    // Like the namespace controller: contents go first, those holding finalizers only start
    // terminating, and the namespace stays terminating until it is empty.
    if (o.type.resource === 'namespaces') {
      const contents = this.objects.filter((x) => x.metadata.namespace === o.metadata.name);
      for (const x of contents) {
        if (x.metadata.finalizers?.length) x.metadata.deletionTimestamp ??= new Date().toISOString();
        else this.objects = this.objects.filter((y) => y !== x);
      }
      if (this.objects.some((x) => x.metadata.namespace === o.metadata.name)) {
        o.metadata.deletionTimestamp ??= new Date().toISOString();
        return;
      }
    }
    this.objects = this.objects.filter((x) => x !== o);
    const ns = this.objects.find((x) => x.type.resource === 'namespaces' && x.metadata.name === o.metadata.namespace);
    if (ns?.metadata.deletionTimestamp && !this.objects.some((x) => x.metadata.namespace === ns.metadata.name)) this.remove(ns);
  }
  /** The PUT .../finalize path: the namespace goes whatever it still holds. */
  finalize(o: FakeObject): void {
    this.objects = this.objects.filter((x) => x !== o);
  }
  async watch(path: string, req: WatchRequest): Promise<void> {
    this.watchRequests.push(path);
    const held = () => new Promise<void>((resolve) => (req.signal.aborted ? resolve() : req.signal.addEventListener('abort', () => resolve(), { once: true })));
    const i = this.watches.findIndex((w) => !w.path || w.path.test(path));
    if (i < 0) return held();
    const [w] = this.watches.splice(i, 1);
    await new Promise((r) => setImmediate(r));
    if (w!.error) throw w!.error;
    for (const e of w!.events ?? []) req.onEvent(structuredClone(e));
    if (w!.hold) await held();
  }
  close(): void {}
  writes(): { method: HttpMethod; path: string }[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }
}

export function objectPathOf(o: FakeObject): string {
  return `${collectionPath(o.type, o.type.namespaced ? o.metadata.namespace : undefined)}/${o.metadata.name}`;
}

export const types = {
  namespaces: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['list', 'watch', 'delete'] },
  configmaps: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: ['list', 'watch', 'delete'] },
  secrets: { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true, verbs: ['list', 'watch', 'delete'] },
  widgets: { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true, verbs: ['list', 'watch', 'delete'] },
  clusterwidgets: { group: 'example.com', version: 'v1', resource: 'clusterwidgets', kind: 'ClusterWidget', namespaced: false, verbs: ['list', 'watch', 'delete'] },
} satisfies Record<string, ResourceType>;
