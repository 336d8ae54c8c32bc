// Pure: what a run changed in the cluster, by comparing two snapshots object by object (UID).
// A type that either snapshot failed to list is never guessed about: its objects go to
// `unknown`, not to leaked or deleted.
import type { Snapshot, SnapshotObject } from '../model.ts';
import { groupOf, typeName } from './discovery.ts';
import { DEFAULT_NOISE_RULES, matchNoise, type NoiseRule } from './noise.ts';

export interface LeakedNamespace {
  namespace: SnapshotObject;
  /** Leaked objects inside it (noise excluded). */
  contents: SnapshotObject[];
}

export interface SnapshotDiff {
  /** Created during the run and still present, terminating ones included; noise excluded. */
  leaked: SnapshotObject[];
  /** Objects that became terminating during the run (deletionTimestamp set, finalizers holding them). */
  terminating: SnapshotObject[];
  /** Namespaces created during the run that still exist, with what is left inside. */
  namespaces: LeakedNamespace[];
  /** Baseline objects gone after the run: a test destroyed shared state. */
  deleted: SnapshotObject[];
  /** Baseline objects that a run deleted and created again under the same name (new UID). */
  replaced: { before: SnapshotObject; after: SnapshotObject }[];
  /** Objects set aside by noise rules, counted by rule id. */
  ignored: Record<string, number>;
  /** Types whose changes cannot be known because a snapshot failed to list them. */
  unknown: string[];
  /** Problems with the comparison itself (different servers, partial snapshots). */
  warnings: string[];
}

/** The type name of a snapshot object, as discovery and snapshot errors name it. */
export function objectTypeName(o: { apiVersion: string; resource: string }): string {
  return typeName({ group: groupOf(o.apiVersion), resource: o.resource });
}

/** apiVersion-independent identity: the same object seen at two versions has the same key. */
export function identityKey(o: { apiVersion: string; kind: string; namespace?: string; name: string }): string {
  return `${groupOf(o.apiVersion)}|${o.kind}|${o.namespace ?? ''}|${o.name}`;
}

function unlistedTypes(s: Snapshot): { all: boolean; types: Set<string> } {
  const types = new Set(s.errors.map((e) => e.resource));
  // A '*' error with nothing listed means discovery itself failed: every type is unknown.
  const all = types.has('*') && s.objects.length === 0;
  return { all, types };
}

export function diffSnapshots(baseline: Snapshot, after: Snapshot, rules: readonly NoiseRule[] = DEFAULT_NOISE_RULES): SnapshotDiff {
  const diff: SnapshotDiff = { leaked: [], terminating: [], namespaces: [], deleted: [], replaced: [], ignored: {}, unknown: [], warnings: [] };
  if (baseline.server !== after.server) {
    diff.warnings.push(`the baseline was taken on ${baseline.server} but the run's snapshot on ${after.server}; the comparison is meaningless across clusters`);
  }
  if (!baseline.complete) diff.warnings.push(`the baseline is partial (${baseline.errors.length} problems): types it could not list are left out of the comparison`);
  if (!after.complete) diff.warnings.push(`the snapshot after the run is partial (${after.errors.length} problems): types it could not list are left out of the comparison`);

  const before = unlistedTypes(baseline);
  const now = unlistedTypes(after);
  const unknown = new Set<string>();
  const noise = (o: SnapshotObject): boolean => {
    const rule = matchNoise(o, rules);
    if (rule) diff.ignored[rule.id] = (diff.ignored[rule.id] ?? 0) + 1;
    return rule !== undefined;
  };

  const baseByUid = new Map<string, SnapshotObject>();
  for (const o of baseline.objects) baseByUid.set(o.uid, o);
  const afterUids = new Set<string>();
  for (const o of after.objects) afterUids.add(o.uid);

  for (const o of after.objects) {
    const old = baseByUid.get(o.uid);
    if (old) {
      if (o.deletionTimestamp && !old.deletionTimestamp && !noise(o)) diff.terminating.push(o);
      continue;
    }
    const t = objectTypeName(o);
    if (before.all || before.types.has(t)) {
      unknown.add(t);
      continue;
    }
    if (noise(o)) continue;
    diff.leaked.push(o);
    if (o.deletionTimestamp) diff.terminating.push(o);
  }

  for (const o of baseline.objects) {
    if (afterUids.has(o.uid)) continue;
    const t = objectTypeName(o);
    if (now.all || now.types.has(t)) {
      unknown.add(t);
      continue;
    }
    if (noise(o)) continue;
    diff.deleted.push(o);
  }

  const leakedByIdentity = new Map(diff.leaked.map((o) => [identityKey(o), o]));
  for (const o of diff.deleted) {
    const again = leakedByIdentity.get(identityKey(o));
    if (again) diff.replaced.push({ before: o, after: again });
  }

  const byNamespace = new Map<string, SnapshotObject[]>();
  for (const o of diff.leaked) {
    if (!o.namespace) continue;
    const list = byNamespace.get(o.namespace) ?? [];
    list.push(o);
    byNamespace.set(o.namespace, list);
  }
  for (const o of diff.leaked) {
    if (isNamespace(o)) diff.namespaces.push({ namespace: o, contents: byNamespace.get(o.name) ?? [] });
  }
  diff.unknown = [...unknown].sort();
  return diff;
}

export function isNamespace(o: { apiVersion: string; kind: string }): boolean {
  return o.apiVersion === 'v1' && o.kind === 'Namespace';
}
