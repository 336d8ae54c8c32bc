// Proven fixes as GitHub suggestions (pure): which lines a fix's patch changes, which of those the
// pull request's diff holds at its head commit, and the review comments that carry them. A fix
// goes to the review only whole (every change of its patch on a line the diff holds, the text there
// the same as the patch's); otherwise it stays in the sticky comment's diff block.

import type { FixReport, Report, TestId } from '../model.ts';
import { fixSentence } from '../report/findings.ts';
import { mdCode, mdFence, mdText, truncate, visibleControls } from '../report/text.ts';
import { markerLine } from './digest.ts';

/** One `@@` hunk of a unified diff: its line prefixes kept (' ', '-', '+'). */
export interface DiffHunk {
  oldStart: number;
  newStart: number;
  lines: string[];
}

const HUNK_HEADER = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/** The hunks of one file's diff (GitHub's pull request files `patch` has only these). */
export function parseHunks(text: string): DiffHunk[] {
  const hunks: DiffHunk[] = [];
  let current: DiffHunk | undefined;
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    const header = HUNK_HEADER.exec(line);
    if (header) {
      current = { oldStart: Number(header[1]), newStart: Number(header[2]), lines: [] };
      hunks.push(current);
    } else if (current && /^[ +-]/.test(line)) {
      current.lines.push(line);
    } else if (!line.startsWith('\\')) {
      // "\ No newline at end of file" belongs to the hunk; anything else (a file header) ends it.
      current = undefined;
    }
  }
  return hunks;
}

/** A unified diff of several files (`git diff`), by the path on its new side. */
export function parseFileDiffs(patch: string): { path: string; hunks: DiffHunk[] }[] {
  const files: { path: string; text: string[] }[] = [];
  for (const line of patch.replace(/\r\n/g, '\n').split('\n')) {
    if (line.startsWith('diff --git ')) files.push({ path: '', text: [] });
    else if (line.startsWith('+++ ') && files.length) files.at(-1)!.path = line.slice(4).replace(/^b\//, '').replace(/\t.*$/, '');
    else if (files.length && !line.startsWith('--- ')) files.at(-1)!.text.push(line);
  }
  return files.filter((f) => f.path && f.path !== '/dev/null').map((f) => ({ path: f.path, hunks: parseHunks(f.text.join('\n')) }));
}

/**
 * One run of changed lines: the old-side lines start..end it replaces and what replaces them. A
 * pure insertion replaces the line before it (kept first in the replacement): a suggestion must
 * replace at least one line.
 */
export interface ChangeBlock {
  start: number;
  end: number;
  /** The old side's text of start..end. */
  original: string[];
  replacement: string[];
}

export function changeBlocks(hunk: DiffHunk): ChangeBlock[] {
  const blocks: ChangeBlock[] = [];
  let oldLine = hunk.oldStart;
  let i = 0;
  while (i < hunk.lines.length) {
    if (hunk.lines[i]![0] === ' ') {
      oldLine++;
      i++;
      continue;
    }
    const removed: string[] = [];
    const added: string[] = [];
    const first = oldLine;
    for (; i < hunk.lines.length && hunk.lines[i]![0] !== ' '; i++) {
      const line = hunk.lines[i]!;
      if (line[0] === '-') {
        removed.push(line.slice(1));
        oldLine++;
      } else added.push(line.slice(1));
    }
    if (removed.length) {
      blocks.push({ start: first, end: oldLine - 1, original: removed, replacement: added });
      continue;
    }
    // A pure insertion leans on the line before it, or at a hunk's top on the line after it.
    const before = hunk.lines[i - added.length - 1];
    const after = hunk.lines[i];
    if (before?.[0] === ' ') blocks.push({ start: first - 1, end: first - 1, original: [before.slice(1)], replacement: [before.slice(1), ...added] });
    else if (after?.[0] === ' ') blocks.push({ start: first, end: first, original: [after.slice(1)], replacement: [...added, after.slice(1)] });
  }
  // Insertions on both sides of one line lean on it twice: one suggestion, or applying one undoes the other.
  const merged: ChangeBlock[] = [];
  for (const block of blocks) {
    const last = merged.at(-1);
    if (last && block.start === last.end && block.end === block.start) merged[merged.length - 1] = { ...last, replacement: [...last.replacement, ...block.replacement.slice(1)] };
    else merged.push(block);
  }
  return merged;
}

/** The head-side lines a review comment can sit on (context and added lines), each with its hunk and text. */
export function commentableLines(hunks: DiffHunk[]): Map<number, { hunk: number; text: string }> {
  const lines = new Map<number, { hunk: number; text: string }>();
  hunks.forEach((hunk, index) => {
    let newLine = hunk.newStart;
    for (const raw of hunk.lines) {
      if (raw[0] === '-') continue;
      lines.set(newLine++, { hunk: index, text: raw.slice(1) });
    }
  });
  return lines;
}

/** A review comment as `POST .../pulls/{n}/reviews` takes it: on the head side, one line or a range. */
export interface SuggestionComment {
  path: string;
  line: number;
  start_line?: number;
  side: 'RIGHT';
  start_side?: 'RIGHT';
  body: string;
}

/** A PR file as the pull request files API lists it. */
export interface PullRequestFile {
  filename: string;
  /** Absent for binary or very large diffs. */
  patch?: string;
}

export interface SuggestionPlan {
  comments: SuggestionComment[];
  /** Offered fixes that stay in the sticky comment only, with why. */
  kept: { file: string; line: number; why: string }[];
}

export function suggestionMarker(workflow: string, job: string, key: string): string {
  return markerLine('suggestion', [workflow, job, key]);
}

/** A GitHub suggestion block: its content replaces the commented lines exactly. */
export function suggestionBlock(replacement: string[]): string | undefined {
  const text = replacement.join('\n');
  // mdFence shows control characters as escapes: the suggestion would no longer be the proven patch.
  if (visibleControls(text) !== text) return undefined;
  return mdFence(text, 'suggestion');
}

/** The offered fixes of a report, one per patch (victims of the same polluter share it). */
export function offeredFixes(report: Report): { fix: FixReport; victims: TestId[] }[] {
  const byPatch = new Map<string, { fix: FixReport; victims: TestId[] }>();
  for (const test of report.tests) {
    const fix = test.fix;
    if (!fix?.offered || !fix.patch || !fix.file) continue;
    const entry = byPatch.get(fix.patch) ?? { fix, victims: [] };
    entry.victims.push(test.id);
    byPatch.set(fix.patch, entry);
  }
  return [...byPatch.values()];
}

/**
 * The review comments for a report's offered fixes on this PR: each change of a fix's patch on a
 * line the PR's diff holds (one hunk for a range), with the head's text there equal to the
 * patch's old side, so the suggestion applies to the head commit as it was proven.
 */
export function planSuggestions(report: Report, files: PullRequestFile[], marker: string): SuggestionPlan {
  const plan: SuggestionPlan = { comments: [], kept: [] };
  const names = new Map(report.tests.map((t) => [t.id, t.name]));
  const label = (id: TestId) => names.get(id) ?? id;
  const diffs = new Map(files.map((f) => [f.filename, commentableLines(parseHunks(f.patch ?? ''))]));
  for (const { fix, victims } of offeredFixes(report)) {
    const at = { file: fix.file!, line: fix.lines?.start ?? 0 };
    const changes = parseFileDiffs(fix.patch!).flatMap((file) => file.hunks.flatMap(changeBlocks).map((block) => ({ path: file.path, block })));
    if (!changes.length) {
      plan.kept.push({ ...at, why: 'its patch changes no line' });
      continue;
    }
    const comments: SuggestionComment[] = [];
    let why: string | undefined;
    for (const { path, block } of changes) {
      const head = diffs.get(path);
      const lines = Array.from({ length: block.end - block.start + 1 }, (_, i) => head?.get(block.start + i));
      if (!head || lines.some((l) => l === undefined)) {
        why = `${path}:${block.start} is not in the pull request's diff`;
        break;
      }
      if (lines.some((l) => l!.hunk !== lines[0]!.hunk)) {
        why = `${path}:${block.start}-${block.end} spans two hunks of the pull request's diff`;
        break;
      }
      if (lines.some((l, i) => l!.text !== block.original[i])) {
        why = `${path}:${block.start} at the head commit is not the line the patch was proven on`;
        break;
      }
      const suggestion = suggestionBlock(block.replacement);
      if (!suggestion) {
        why = 'its patch holds control characters a suggestion would not keep';
        break;
      }
      const range = block.end > block.start ? { start_line: block.start, start_side: 'RIGHT' as const } : {};
      comments.push({ path, line: block.end, ...range, side: 'RIGHT', body: suggestion });
    }
    if (why) {
      plan.kept.push({ ...at, why });
      continue;
    }
    const about = `**kubeflake: a proven fix** for ${victims.map((v) => mdCode(truncate(label(v), 200))).join(', ')}: ${mdText(truncate(fixSentence(fix, label), 600))}`;
    const part = (i: number) => (comments.length > 1 ? ` (change ${i + 1} of ${comments.length}; commit them together)` : '');
    plan.comments.push(...comments.map((c, i) => ({ ...c, body: `${marker}\n${about}${part(i)}\n\n${c.body}` })));
  }
  return plan;
}

/** A kubeflake suggestion already on the PR, as the review comments API lists it (line null: outdated by a push). */
export interface ExistingSuggestion {
  id: number;
  path: string;
  line?: number | null;
  start_line?: number | null;
  body: string;
}

export interface SuggestionChanges {
  unchanged: ExistingSuggestion[];
  update: { id: number; body: string }[];
  remove: ExistingSuggestion[];
  create: SuggestionComment[];
}

/**
 * What to write so exactly the planned suggestions stand: one still on its line (not outdated by a
 * push) is kept or its body updated; the rest are removed and the missing ones created.
 */
export function reconcileSuggestions(existing: ExistingSuggestion[], planned: SuggestionComment[]): SuggestionChanges {
  const changes: SuggestionChanges = { unchanged: [], update: [], remove: [], create: [] };
  const free = [...existing].sort((a, b) => b.id - a.id);
  for (const comment of planned) {
    const index = free.findIndex((e) => e.line != null && e.path === comment.path && e.line === comment.line && (e.start_line ?? undefined) === comment.start_line);
    if (index < 0) {
      changes.create.push(comment);
      continue;
    }
    const [match] = free.splice(index, 1);
    if (match!.body === comment.body) changes.unchanged.push(match!);
    else changes.update.push({ id: match!.id, body: comment.body });
  }
  changes.remove.push(...free);
  return changes;
}

/** Two runs racing may both create a suggestion on one line: the newest of each line stays. */
export function duplicateSuggestions(own: ExistingSuggestion[]): ExistingSuggestion[] {
  const seen = new Set<string>();
  const duplicates: ExistingSuggestion[] = [];
  for (const comment of [...own].sort((a, b) => b.id - a.id)) {
    if (comment.line == null) continue;
    const key = `${comment.path}\u0000${comment.start_line ?? ''}\u0000${comment.line}`;
    if (seen.has(key)) duplicates.push(comment);
    seen.add(key);
  }
  return duplicates;
}
