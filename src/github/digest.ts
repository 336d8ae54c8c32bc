// The hidden lines at the top of every body kubeflake writes on GitHub: a marker that says
// whose body it is, and a digest of what earlier runs saw (compressed JSON in an HTML comment).
// Only the body's first lines are ever read, and nothing a test suite controls can reach them:
// test names and messages are rendered further down, escaped, so pasting a marker into a test
// name or a failure message can neither be found as a marker nor break one.

import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** A marker line for a body of `kind` owned by `scope` (workflow, job, key...), hashed so it holds no user text. */
export function markerLine(kind: 'comment' | 'tracking' | 'suggestion', scope: string[]): string {
  const id = createHash('sha256').update(scope.join('\u0000')).digest('hex').slice(0, 20);
  return `<!-- kubeflake:${kind} ${id} -->`;
}

/** True when the body's first line is a kubeflake marker of `kind`, whoever's scope. */
export function hasMarkerOfKind(body: string | null | undefined, kind: 'comment' | 'tracking'): boolean {
  return new RegExp(`^<!-- kubeflake:${kind} [0-9a-f]{20} -->$`).test((body ?? '').split('\n', 1)[0]!.trimEnd());
}

/** True when the body's first line is exactly this marker. */
export function hasMarker(body: string | null | undefined, marker: string): boolean {
  return (body ?? '').split('\n', 1)[0]!.trimEnd() === marker;
}

const DIGEST = /^<!-- kubeflake:digest ([A-Za-z0-9_-]*) -->$/;

/** The digest line: JSON, deflated, base64url. Its alphabet cannot close the HTML comment. */
export function digestLine(value: unknown): string {
  return `<!-- kubeflake:digest ${deflateRawSync(JSON.stringify(value), { level: 9 }).toString('base64url')} -->`;
}

/** The digest of a body kubeflake wrote (second line), or undefined when absent or unreadable. */
export function readDigest(body: string | null | undefined): unknown {
  const line = (body ?? '').split('\n', 2)[1]?.trimEnd() ?? '';
  const match = DIGEST.exec(line);
  if (!match) return undefined;
  try {
    return JSON.parse(inflateRawSync(Buffer.from(match[1]!, 'base64url'), { maxOutputLength: 8 * 2 ** 20 }).toString('utf8'));
  } catch {
    return undefined;
  }
}
