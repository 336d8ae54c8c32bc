// Pure: finding an object's create (and its deletes) in the record. The record names objects by
// resource, namespace and name, never by kind or uid (the uid is empty on creates):
// - An object created under its own name: the last successful create of that name whose server
//   time fits the object's creationTimestamp (same clock, second precision).
// - A generateName object: its create names nothing. The object is named first by a later request
//   (the controller's patch, the test's get or delete); its create is the nameless create of that
//   resource and namespace just before it, each create going to one object only (names in the
//   order they were first named), within the object's creation second when that is known.
//   An object no request ever names (made and left alone) takes the nameless creates no named
//   object took, within its creation second.
//   Where several creates could be it, all are kept: the caller says whether they agree.

import { succeeded, type RecordEntry } from './entry.ts';

/** What the record needs of an object to find its create. */
export interface RecordedObject {
  /** "v1", "apps/v1", "cache.kubeflake.dev/v1alpha1". */
  apiVersion: string;
  resource: string;
  namespace?: string;
  name: string;
  /** metadata.creationTimestamp: the create lies in that second. */
  creationTimestamp?: string;
}

export interface RecordCreate {
  /** The create; the likeliest first when `match` is generate-name and several fit. */
  entry: RecordEntry;
  match: 'name' | 'generate-name';
  /** generate-name only: every nameless create that could have made the object (entry first). */
  possible?: RecordEntry[];
}

/** A request that brought an object into being: a create, or an apply/update answered 201 Created. */
export function isCreation(e: RecordEntry): boolean {
  if (!e.object || e.object.subresource) return false;
  if (e.verb === 'create') return succeeded(e);
  return (e.verb === 'patch' || e.verb === 'update') && e.code === 201;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

function collectionKey(group: string, resource: string, namespace: string | undefined): string {
  return `${group}|${resource}|${namespace ?? ''}`;
}

/** The second a creationTimestamp names, as [from, to) epoch ms; undefined when there is none. */
function creationSecond(o: RecordedObject): { from: number; to: number } | undefined {
  const t = o.creationTimestamp ? Date.parse(o.creationTimestamp) : NaN;
  return Number.isFinite(t) ? { from: t, to: t + 1000 } : undefined;
}

/** Whether a create's server span [received, completed] meets the creation second. */
function fitsSecond(e: RecordEntry, second: { from: number; to: number } | undefined): boolean {
  return !second || (e.requestReceivedTimestamp < second.to && e.stageTimestamp >= second.from);
}

/** An index of one record for finding creates and deletes of objects. */
export class RecordIndex {
  /** Named creations by collection|name, in time order. */
  readonly #named = new Map<string, RecordEntry[]>();
  /** Nameless creations (generateName) by collection, in time order. */
  readonly #nameless = new Map<string, RecordEntry[]>();
  /** Every request naming an object, by collection|name, in time order. */
  readonly #mentions = new Map<string, RecordEntry[]>();
  /** When each namespace was first used by a request inside it. */
  readonly #firstUse = new Map<string, number>();
  /** The claims of nameless creates, by collection: name -> the creates that may be its; and the creates no name took. */
  readonly #claims = new Map<string, { byName: Map<string, RecordEntry[]>; unclaimed: RecordEntry[] }>();

  constructor(entries: readonly RecordEntry[]) {
    const sorted = [...entries].sort((a, b) => a.requestReceivedTimestamp - b.requestReceivedTimestamp);
    for (const e of sorted) {
      const o = e.object;
      if (!o) continue;
      const namespaceObject = o.apiGroup === '' && o.resource === 'namespaces';
      // A request about namespace X carries X as its namespace too: a namespace lives in none.
      const collection = collectionKey(o.apiGroup, o.resource, namespaceObject ? undefined : o.namespace);
      if (o.name) push(this.#mentions, `${collection}|${o.name}`, e);
      // A request inside a namespace names that namespace too: a generateName namespace is first named so.
      if (o.namespace && !namespaceObject && !this.#firstUse.has(o.namespace)) this.#firstUse.set(o.namespace, e.requestReceivedTimestamp);
      if (!isCreation(e)) continue;
      if (o.name) push(this.#named, `${collection}|${o.name}`, e);
      else push(this.#nameless, collection, e);
    }
  }

  /** The object's create in the record; undefined when the record does not hold it. */
  createOf(o: RecordedObject): RecordCreate | undefined {
    const collection = collectionKey(groupOf(o.apiVersion), o.resource, o.namespace);
    const second = creationSecond(o);
    const named = this.#named.get(`${collection}|${o.name}`) ?? [];
    const fitting = named.filter((e) => fitsSecond(e, second));
    const byName = fitting.at(-1) ?? (second ? undefined : named.at(-1));
    if (byName) return { entry: byName, match: 'name' };
    // Without the creation second, only the likeliest: every older unclaimed create would be "possible".
    const claims = this.#claimsOf(collection);
    const claimed = claims.byName.get(o.name);
    // Never named by any request (made and left alone): the nameless creates no named object took, in its creation second.
    const possible = claimed ? (second ? claimed.filter((e) => fitsSecond(e, second)) : claimed.slice(0, 1)) : second ? claims.unclaimed.filter((e) => fitsSecond(e, second)).reverse() : [];
    const first = possible[0];
    if (!first) return undefined;
    const create: RecordCreate = { entry: first, match: 'generate-name' };
    if (possible.length > 1) create.possible = possible;
    return create;
  }

  /** Successful deletes of the object by name, in time order (a delete of an older object of that name too). */
  deletesOf(o: Pick<RecordedObject, 'apiVersion' | 'resource' | 'namespace' | 'name'>): RecordEntry[] {
    const collection = collectionKey(groupOf(o.apiVersion), o.resource, o.namespace);
    return (this.#mentions.get(`${collection}|${o.name}`) ?? []).filter((e) => e.verb === 'delete' && !e.object?.subresource && succeeded(e));
  }

  /** Every request naming the object, in time order. */
  mentionsOf(o: Pick<RecordedObject, 'apiVersion' | 'resource' | 'namespace' | 'name'>): RecordEntry[] {
    return this.#mentions.get(`${collectionKey(groupOf(o.apiVersion), o.resource, o.namespace)}|${o.name}`) ?? [];
  }

  /**
   * Which nameless creates each generated name of a collection may come from: names in the order
   * they were first named; each takes the creates before its first mention that no earlier-named
   * object took, the latest first (the one it most likely is).
   */
  #claimsOf(collection: string): { byName: Map<string, RecordEntry[]>; unclaimed: RecordEntry[] } {
    const cached = this.#claims.get(collection);
    if (cached) return cached;
    const byName = new Map<string, RecordEntry[]>();
    const creates = this.#nameless.get(collection) ?? [];
    const claims = { byName, unclaimed: creates };
    this.#claims.set(collection, claims);
    if (creates.length === 0) return claims;
    const first = new Map<string, number>();
    const prefix = `${collection}|`;
    for (const [key, mentions] of this.#mentions) {
      if (!key.startsWith(prefix) || key.indexOf('|', prefix.length) !== -1) continue;
      // A name that was created under that name is no generated one.
      if (this.#named.has(key)) continue;
      if (mentions[0]) first.set(key.slice(prefix.length), mentions[0].requestReceivedTimestamp);
    }
    if (collection === collectionKey('', 'namespaces', undefined)) {
      for (const [name, at] of this.#firstUse) {
        if (!this.#named.has(`${prefix}${name}`)) first.set(name, Math.min(at, first.get(name) ?? Infinity));
      }
    }
    const firsts = [...first].map(([name, at]) => ({ name, at }));
    firsts.sort((a, b) => a.at - b.at);
    const taken = new Set<RecordEntry>();
    for (const { name, at } of firsts) {
      const before = creates.filter((c) => !taken.has(c) && c.requestReceivedTimestamp <= at).reverse();
      const likeliest = before[0];
      if (!likeliest) continue;
      taken.add(likeliest);
      byName.set(name, before);
    }
    claims.unclaimed = creates.filter((c) => !taken.has(c));
    return claims;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
