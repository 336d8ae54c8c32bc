// Linking a victim's failure to leaked objects: the failure names an object (kind/name) that a
// run left behind, and the leak report says which test created it.

import type { LeakReport, TestId } from '../model.ts';
import { extractObjectRefs, type MentionedObject } from './taxonomy.ts';

/** Indexes of the leaks whose object the failure message (or text) names. */
export function linkFailureToLeaks(message: string, leaks: readonly LeakReport[]): number[] {
  const refs = extractObjectRefs(message);
  const linked: number[] = [];
  leaks.forEach((leak, i) => {
    if (refs.some((ref) => refersTo(ref, leak))) linked.push(i);
  });
  return linked;
}

/**
 * For each polluter candidate, the leaks linking it to the victim: leaks named by one of the
 * victim's failures whose createdBy (or deletedBy) is that candidate.
 */
export function leaksByCreator(victim: TestId, failureMessages: string[], leaks: readonly LeakReport[]): Map<TestId, number[]> {
  const indexes = new Set<number>();
  for (const message of failureMessages) for (const i of linkFailureToLeaks(message, leaks)) indexes.add(i);
  const byCreator = new Map<TestId, number[]>();
  for (const i of [...indexes].sort((a, b) => a - b)) {
    // A shared object the polluter deleted links them as much as one it left behind.
    const leak = leaks[i];
    const creator = leak?.createdBy ?? leak?.deletedBy;
    if (!creator || creator === victim) continue;
    byCreator.set(creator, [...(byCreator.get(creator) ?? []), i]);
  }
  return byCreator;
}

function refersTo(ref: MentionedObject, leak: LeakReport): boolean {
  if (ref.name !== leak.name) return false;
  if (ref.namespace && leak.namespace && ref.namespace !== leak.namespace) return false;
  // client-go qualifies non-core resources ("modelcaches.cache.kubeflake.dev"): a group, when given, must agree.
  if (ref.group && ref.group !== groupOf(leak.apiVersion)) return false;
  return typeMatches(ref.type, leak);
}

function typeMatches(type: string, leak: LeakReport): boolean {
  const t = type.toLowerCase();
  const kind = leak.kind.toLowerCase();
  if (leak.resource && leak.resource.toLowerCase() === t) return true;
  if (t === kind) return true;
  return pluralsOf(kind).includes(t);
}

/** English plurals Kubernetes uses for resources when no discovery answer is at hand. */
function pluralsOf(kind: string): string[] {
  const forms = [`${kind}s`, `${kind}es`];
  if (kind.endsWith('y')) forms.push(`${kind.slice(0, -1)}ies`);
  return forms;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash >= 0 ? apiVersion.slice(0, slash) : '';
}
