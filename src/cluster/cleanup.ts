// The only place kubeflake changes the cluster. `planCleanup` decides, on plain data, what to
// delete to bring the cluster back to the baseline; `executeCleanup` carries out a plan and
// nothing else. Safety rules, all enforced in the plan and checked again before each act:
// - only objects whose UID is absent from the baseline are touched, and every request names
//   that UID (DELETE preconditions, a JSON-patch test), so a same-name replacement is never hit;
// - nothing inside a protected namespace, nor a protected namespace itself, is touched;
// - a type the baseline failed to list is never touched (nothing proves its objects are new);
// - dry-run makes no request at all.
import type { CleanupAct, CleanupReport, ObjectRef, Snapshot, SnapshotObject } from '../model.ts';
import { identityKey, isNamespace, objectTypeName } from './diff.ts';
import { collectionPath, groupOf, objectPath, type ResourceType } from './discovery.ts';
import { forEachBounded, isNotFound, isUnreachable, KubeApiError, type KubeApi } from './kube.ts';
import { DEFAULT_NOISE_RULES, matchNoise, type NoiseRule } from './noise.ts';
import { listType } from './snapshot.ts';

/** Namespaces whose contents kubeflake never touches, whatever the options say. */
export const PROTECTED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];

/** The default namespace itself and what the control plane keeps in it are never touched. */
const DEFAULT_OWN = new Set(['default/kubernetes', 'default/default', 'default/kube-root-ca.crt']);

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export interface CleanupOptions {
  /** The run the cleanup follows ("000"); recorded on every act. */
  run: string;
  /** Decide and report only; make no request. */
  dryRun?: boolean;
  /** More namespaces never to touch (contents and the namespace itself). */
  protectedNamespaces?: readonly string[];
  /** Objects the cluster makes by itself are left to it. */
  rules?: readonly NoiseRule[];
  /** Remove finalizers from run-created objects still terminating after the grace period, and finalize stuck namespaces. */
  removeFinalizers?: boolean;
  /** How long deletions may take before an object counts as stuck. */
  graceMs?: number;
  /** A creationTimestamp this much older than the baseline proves the object predates it. */
  clockSkewMs?: number;
}

export interface PlannedAct {
  object: SnapshotObject;
  reason: string;
}

export interface CleanupPlan {
  run: string;
  dryRun: boolean;
  removeFinalizers: boolean;
  graceMs: number;
  /** Every namespace that must not be touched, built-in ones included. */
  protectedNamespaces: string[];
  /** Deleted one by one, in this order: namespaced objects, cluster-scoped ones, CRDs, namespaces. */
  deletes: PlannedAct[];
  /** Removed by the API server together with an object in `deletes` (namespace contents, dependents). */
  cascaded: PlannedAct[];
  /** Created by the run but deliberately not touched. */
  left: { object: SnapshotObject; why: string }[];
}

function rank(o: SnapshotObject): number {
  if (isNamespace(o)) return 3;
  if (groupOf(o.apiVersion) === 'apiextensions.k8s.io' && o.kind === 'CustomResourceDefinition') return 2;
  return o.namespaced ? 0 : 1;
}

export function describe(o: ObjectRef): string {
  return `${o.apiVersion} ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/** Decides what cleanup will do. Pure. */
export function planCleanup(baseline: Snapshot, after: Snapshot, options: CleanupOptions): CleanupPlan {
  const rules = options.rules ?? DEFAULT_NOISE_RULES;
  const graceMs = options.graceMs ?? 30_000;
  const skew = options.clockSkewMs ?? 10 * 60_000;
  const protectedNs = [...new Set([...PROTECTED_NAMESPACES, ...(options.protectedNamespaces ?? [])])];
  const plan: CleanupPlan = {
    run: options.run,
    dryRun: options.dryRun ?? false,
    removeFinalizers: options.removeFinalizers ?? false,
    graceMs,
    protectedNamespaces: protectedNs,
    deletes: [],
    cascaded: [],
    left: [],
  };
  const baseUids = new Set(baseline.objects.map((o) => o.uid));
  const created = after.objects.filter((o) => !baseUids.has(o.uid) && !matchNoise(o, rules));

  const refuseAll = (why: string) => {
    for (const o of created) plan.left.push({ object: o, why });
    return plan;
  };
  if (baseline.server !== after.server) {
    return refuseAll(`the baseline was taken on ${baseline.server}, not on ${after.server}: nothing proves these objects are new`);
  }
  const unlisted = new Set(baseline.errors.map((e) => e.resource));
  if (unlisted.has('*') && baseline.objects.length === 0) {
    return refuseAll('the baseline listed nothing (discovery failed): nothing proves these objects are new');
  }

  const goneIdentities = new Set<string>();
  const afterUids = new Set(after.objects.map((o) => o.uid));
  for (const o of baseline.objects) if (!afterUids.has(o.uid)) goneIdentities.add(identityKey(o));

  const candidates: SnapshotObject[] = [];
  for (const o of created) {
    const why = reasonToLeave(o, { protectedNs, unlisted, goneIdentities, notBefore: baseline.takenAt - skew });
    if (why) plan.left.push({ object: o, why });
    else candidates.push(o);
  }

  const doomedNamespaces = new Set(candidates.filter(isNamespace).map((o) => o.name));
  const candidateUids = new Set(candidates.map((o) => o.uid));
  const byUid = new Map(candidates.map((o) => [o.uid, o]));
  for (const o of candidates) {
    const already = o.deletionTimestamp ? ' (already terminating)' : '';
    if (o.namespace && doomedNamespaces.has(o.namespace)) {
      plan.cascaded.push({ object: o, reason: `deleted with namespace ${o.namespace}, created during run ${options.run}${already}` });
      continue;
    }
    // The garbage collector removes a dependent only once every owner is gone.
    const owners = o.ownerReferences ?? [];
    if (owners.length > 0 && owners.every((r) => candidateUids.has(r.uid))) {
      const owner = byUid.get(owners[0]!.uid)!;
      plan.cascaded.push({ object: o, reason: `garbage-collected with its owner ${describe(owner)}${already}` });
      continue;
    }
    plan.deletes.push({ object: o, reason: `created during run ${options.run}${already}` });
  }
  plan.deletes.sort((a, b) => rank(a.object) - rank(b.object) || identityKey(a.object).localeCompare(identityKey(b.object)));
  return plan;
}

function reasonToLeave(
  o: SnapshotObject,
  ctx: { protectedNs: string[]; unlisted: Set<string>; goneIdentities: Set<string>; notBefore: number },
): string | undefined {
  if (o.namespace && ctx.protectedNs.includes(o.namespace)) return `in protected namespace ${o.namespace}`;
  if (isNamespace(o) && (ctx.protectedNs.includes(o.name) || o.name === 'default')) return `namespace ${o.name} is protected`;
  if (o.namespace === 'default' && DEFAULT_OWN.has(`default/${o.name}`)) return `default/${o.name} belongs to the control plane`;
  const t = objectTypeName(o);
  if (ctx.unlisted.has(t)) return `the baseline could not list ${t}, so nothing proves this object is new`;
  if (o.creationTimestamp && Date.parse(o.creationTimestamp) < ctx.notBefore) {
    return `created at ${o.creationTimestamp}, before the baseline was taken, yet missing from it: not touched`;
  }
  if (ctx.goneIdentities.has(identityKey(o))) {
    return 'a test deleted the baseline object of this name and created it again: kubeflake does not remove shared state';
  }
  return undefined;
}

/** What a plan will do, one line per act, for --dry-run and logs. */
export function formatCleanupPlan(plan: CleanupPlan): string[] {
  const lines: string[] = [];
  const verb = plan.dryRun ? 'would ' : '';
  for (const a of plan.deletes) lines.push(`${verb}delete ${describe(a.object)} (uid ${a.object.uid}): ${a.reason}`);
  for (const a of plan.cascaded) lines.push(`${verb}remove ${describe(a.object)} (uid ${a.object.uid}): ${a.reason}`);
  if (plan.removeFinalizers) {
    lines.push(
      `${verb}remove the finalizers of any of these objects still terminating after ${seconds(plan.graceMs)}, then finalize namespaces still terminating`,
    );
  }
  for (const l of plan.left) lines.push(`leave ${describe(l.object)} (uid ${l.object.uid}): ${l.why}`);
  if (lines.length === 0) lines.push('nothing to clean up: the cluster matches the baseline');
  return lines;
}

export interface ExecuteOptions {
  /** Requests in flight at once. */
  concurrency?: number;
  /** How often to check whether deleted objects are gone. */
  pollMs?: number;
  /** Called with a line for each act, as it happens. */
  log?: (line: string) => void;
  /** Clock for the waits' deadlines, replaceable in tests. */
  now?: () => number;
}

function act(o: SnapshotObject, run: string, reason?: string): CleanupAct {
  const object: ObjectRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid };
  if (o.namespace) object.namespace = o.namespace;
  const a: CleanupAct = { object, run };
  if (reason) a.reason = reason;
  return a;
}

function typeOf(o: SnapshotObject): ResourceType {
  const group = groupOf(o.apiVersion);
  return { group, version: group ? o.apiVersion.slice(group.length + 1) : o.apiVersion, resource: o.resource, kind: o.kind, namespaced: o.namespaced, verbs: [] };
}

/** Pure: what a dry run reports: every planned act as if done, no request made. */
export function dryRunReport(plan: CleanupPlan): CleanupReport {
  const report: CleanupReport = { dryRun: true, deleted: [], finalizersRemoved: [], left: plan.left.map((l) => ({ ...act(l.object, plan.run), why: l.why })) };
  const all = [...plan.deletes, ...plan.cascaded];
  for (const a of all) report.deleted.push(act(a.object, plan.run, a.reason));
  if (plan.removeFinalizers) {
    for (const { object: o } of all) {
      if (o.deletionTimestamp && o.finalizers?.length) {
        report.finalizersRemoved.push(act(o, plan.run, `would remove [${o.finalizers.join(', ')}] if still terminating after ${seconds(plan.graceMs)}`));
      }
    }
  }
  return report;
}

/** Pure: whether the executor may touch an object. The plan never holds protected ones; this refuses them anyway. */
export function mayTouch(o: SnapshotObject, protectedNamespaces: readonly string[]): boolean {
  if (o.namespace && protectedNamespaces.includes(o.namespace)) return false;
  return !(isNamespace(o) && (protectedNamespaces.includes(o.name) || o.name === 'default'));
}

/** The first sign that the API server went away: from then on nothing new is started. */
export class Outage {
  error: Error | undefined;
  get happened(): boolean {
    return this.error !== undefined;
  }
  /** True (and remembered) when `err` says the server is unreachable; other errors are the caller's. */
  absorbs(err: unknown): boolean {
    if (!isUnreachable(err)) return false;
    this.error ??= err;
    return true;
  }
}

/** What one execution of a plan has done so far. */
interface Execution {
  api: KubeApi;
  plan: CleanupPlan;
  limit: number;
  pollMs: number;
  now: () => number;
  log: (line: string) => void;
  outage: Outage;
  /** Deletion asked for (or cascaded), by UID. */
  requested: Map<string, PlannedAct>;
  /** Already gone from storage when the delete answered. */
  removed: Set<string>;
  /** Not deleted, and why. */
  refused: Map<string, string>;
  finalizersRemoved: CleanupAct[];
  errors: string[];
}

/** Carries out a plan. Never throws for the API server: problems land in `left` and `errors`. */
export async function executeCleanup(api: KubeApi, plan: CleanupPlan, opts: ExecuteOptions = {}): Promise<CleanupReport> {
  if (plan.dryRun) return dryRunReport(plan);
  const ex: Execution = {
    api, plan, limit: opts.concurrency ?? 8, pollMs: opts.pollMs ?? 250, now: opts.now ?? Date.now, log: opts.log ?? (() => {}),
    outage: new Outage(), requested: new Map(plan.cascaded.map((a) => [a.object.uid, a])), removed: new Set(), refused: new Map(),
    finalizersRemoved: [], errors: [],
  };
  await deleteInPhases(ex);
  const pending = [...ex.requested.values()].filter((a) => !ex.removed.has(a.object.uid)).map((a) => a.object);
  let present = ex.outage.happened ? byUid(pending) : await stillPresent(ex, pending, plan.graceMs);
  if (plan.removeFinalizers && present.size > 0 && !ex.outage.happened) present = await unstick(ex, present);
  return cleanupOutcome(ex, present);
}

function byUid(objects: SnapshotObject[]): Map<string, SnapshotObject> {
  return new Map(objects.map((o) => [o.uid, o]));
}

/** Deletes the plan's objects phase by phase (rank order), so namespaces are asked to go last. */
async function deleteInPhases(ex: Execution): Promise<void> {
  for (let phase = 0; phase <= 3 && !ex.outage.happened; phase++) {
    const batch = ex.plan.deletes.filter((a) => rank(a.object) === phase);
    await forEachBounded(batch, ex.limit, (a) => deleteOne(ex, a), () => ex.outage.happened);
  }
}

/** One DELETE, named by UID (a same-name replacement fails the precondition and is left alone). */
async function deleteOne(ex: Execution, a: PlannedAct): Promise<void> {
  const uid = a.object.uid;
  if (!mayTouch(a.object, ex.plan.protectedNamespaces)) {
    ex.refused.set(uid, 'in a protected namespace: refused');
    return;
  }
  try {
    const res = await ex.api.request<{ metadata?: { deletionTimestamp?: string } }>('DELETE', objectPath(a.object), {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid } },
      timeoutMs: 30_000,
    });
    ex.requested.set(uid, a);
    // No deletionTimestamp in the answer: the object is already removed from storage.
    if (!res.metadata?.deletionTimestamp) ex.removed.add(uid);
    ex.log(`deleted ${describe(a.object)}`);
  } catch (err) {
    if (isNotFound(err)) {
      ex.requested.set(uid, a);
      ex.removed.add(uid);
    } else if (ex.outage.absorbs(err)) {
      return;
    } else if (err instanceof KubeApiError && err.status === 409) {
      ex.refused.set(uid, 'replaced by another object of the same name (UID precondition failed): not touched');
    } else {
      ex.refused.set(uid, `delete failed: ${(err as Error).message}`);
    }
  }
}

/**
 * Objects still terminating after the grace period lose their finalizers: ordinary objects
 * first, since CRDs and namespaces hold system finalizers that clear by themselves once what
 * they contain is gone, and forcing them first would orphan that; then CRDs; then namespaces
 * are finalized. Returns what is still present after all that.
 */
async function unstick(ex: Execution, present: Map<string, SnapshotObject>): Promise<Map<string, SnapshotObject>> {
  const touchable = (m: Map<string, SnapshotObject>) => [...m.values()].filter((o) => mayTouch(o, ex.plan.protectedNamespaces));
  const settle = async (m: Map<string, SnapshotObject>) => (ex.outage.happened ? m : stillPresent(ex, [...m.values()], Math.min(ex.plan.graceMs, 15_000)));
  await removeFinalizers(ex, touchable(present).filter((o) => rank(o) < 2));
  present = await settle(present);
  await removeFinalizers(ex, touchable(present).filter((o) => rank(o) === 2));
  for (const ns of touchable(present).filter(isNamespace)) {
    if (ex.outage.happened) break;
    await finalizeNamespace(ex, ns);
  }
  return settle(present);
}

/** Removes the finalizers of objects still terminating, each patch guarded by the object's UID. */
async function removeFinalizers(ex: Execution, objects: SnapshotObject[]): Promise<void> {
  await forEachBounded(objects.filter((o) => o.finalizers?.length), ex.limit, async (o) => {
    const held = (o.finalizers ?? []).join(', ');
    try {
      await ex.api.request('PATCH', objectPath(o), {
        body: [
          { op: 'test', path: '/metadata/uid', value: o.uid },
          { op: 'remove', path: '/metadata/finalizers' },
        ],
        contentType: 'application/json-patch+json',
        timeoutMs: 30_000,
      });
      ex.finalizersRemoved.push(act(o, ex.plan.run, `still terminating after ${seconds(ex.plan.graceMs)}, held by [${held}]`));
      ex.log(`removed finalizers [${held}] from ${describe(o)}`);
    } catch (err) {
      if (!isNotFound(err) && !ex.outage.absorbs(err)) ex.errors.push(`could not remove the finalizers of ${describe(o)}: ${(err as Error).message}`);
    }
  }, () => ex.outage.happened);
}

/** Finalizes a namespace still terminating (spec.finalizers cleared), if it is still the one the run made. */
async function finalizeNamespace(ex: Execution, ns: SnapshotObject): Promise<void> {
  try {
    const live = await ex.api.request<{ metadata?: { uid?: string; deletionTimestamp?: string }; spec?: { finalizers?: string[] } }>('GET', objectPath(ns), { timeoutMs: 30_000 });
    if (live.metadata?.uid !== ns.uid || !live.metadata?.deletionTimestamp) return;
    const held = live.spec?.finalizers ?? [];
    await ex.api.request('PUT', `${objectPath(ns)}/finalize`, { body: { ...live, spec: { ...live.spec, finalizers: [] } }, timeoutMs: 30_000 });
    ex.finalizersRemoved.push(act(ns, ex.plan.run, `namespace still terminating, finalized (spec.finalizers [${held.join(', ')}] cleared)`));
    ex.log(`finalized namespace ${ns.name}`);
  } catch (err) {
    if (!isNotFound(err) && !ex.outage.absorbs(err)) ex.errors.push(`could not finalize namespace ${ns.name}: ${(err as Error).message}`);
  }
}

/** The report: each planned object deleted, or left with why. */
function cleanupOutcome(ex: Execution, present: Map<string, SnapshotObject>): CleanupReport {
  const { plan, outage } = ex;
  const report: CleanupReport = { dryRun: false, deleted: [], finalizersRemoved: ex.finalizersRemoved, left: plan.left.map((l) => ({ ...act(l.object, plan.run), why: l.why })) };
  for (const a of [...plan.deletes, ...plan.cascaded]) {
    const o = a.object;
    const why = ex.refused.get(o.uid);
    const live = present.get(o.uid);
    if (why) report.left.push({ ...act(o, plan.run), why });
    else if (!ex.requested.has(o.uid)) report.left.push({ ...act(o, plan.run), why: `not attempted: ${outage.error ? outage.error.message : 'cleanup stopped'}` });
    else if (live) {
      const held = live.finalizers?.length ? `, held by finalizers [${live.finalizers.join(', ')}]` : '';
      report.left.push({ ...act(o, plan.run), why: outage.error ? `not confirmed gone: ${outage.error.message}` : `still present after ${seconds(plan.graceMs)}${live.deletionTimestamp ? ' (terminating)' : ''}${held}` });
    } else report.deleted.push(act(o, plan.run, a.reason));
  }
  const errors = [...ex.errors];
  if (outage.error) errors.push(`cleanup stopped: ${outage.error.message}; ${report.left.length} objects are reported as left`);
  if (errors.length > 0) report.errors = errors;
  return report;
}

/** Polls the objects' types until none of the objects is left or time runs out; returns those left, as last seen. */
async function stillPresent(ex: Execution, objects: SnapshotObject[], timeoutMs: number): Promise<Map<string, SnapshotObject>> {
  let left = byUid(objects);
  const deadline = ex.now() + timeoutMs;
  let interval = ex.pollMs;
  while (left.size > 0) {
    const seen = await listStillThere(ex, left);
    if (!seen) return left;
    left = seen;
    if (left.size === 0 || ex.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, interval));
    interval = Math.min(interval * 2, 2000);
  }
  return left;
}

/** One look: which of `left` the API server still lists; undefined when a type could not be listed. */
async function listStillThere(ex: Execution, left: Map<string, SnapshotObject>): Promise<Map<string, SnapshotObject> | undefined> {
  const types = new Map<string, ResourceType>();
  for (const o of left.values()) types.set(collectionPath(typeOf(o)), typeOf(o));
  const seen = new Map<string, SnapshotObject>();
  let failed = false;
  await Promise.all(
    [...types.values()].map(async (t) => {
      try {
        for (const o of await listType(ex.api, t)) if (left.has(o.uid)) seen.set(o.uid, o);
      } catch (err) {
        // A type that vanished (its CRD deleted) took its objects along.
        if (isNotFound(err)) return;
        failed = true;
        ex.outage.absorbs(err);
      }
    }),
  );
  return failed ? undefined : seen;
}

/** One report for the whole session (Report.cleanup) from each run's cleanup.json. */
export function mergeCleanupReports(reports: CleanupReport[]): CleanupReport {
  const merged: CleanupReport = { dryRun: reports.some((r) => r.dryRun), deleted: [], finalizersRemoved: [], left: [] };
  const errors: string[] = [];
  for (const r of reports) {
    merged.deleted.push(...r.deleted);
    merged.finalizersRemoved.push(...r.finalizersRemoved);
    merged.left.push(...r.left);
    errors.push(...(r.errors ?? []));
  }
  if (errors.length) merged.errors = errors;
  return merged;
}
