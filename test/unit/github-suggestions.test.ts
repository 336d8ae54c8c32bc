// The pure half of proven fixes as GitHub suggestions: the lines a patch changes, the lines a PR's
// diff holds at its head, which fixes go to the review, their suggestion bodies, and what a later
// run writes so exactly one current set stands.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  changeBlocks,
  commentableLines,
  duplicateSuggestions,
  parseFileDiffs,
  parseHunks,
  planSuggestions,
  reconcileSuggestions,
  suggestionBlock,
  suggestionMarker,
  type SuggestionComment,
} from '../../src/github/suggestions.ts';
import { HEAD, offeredFix, PR_ADDS_SPEC, PR_TOUCHES_TOP, reportWithFix, SPEC_FILE, WAIT, WAIT_PATCH, WAIT_PATCH_WITH_IMPORT } from './github-suggestions-data.ts';

const MARKER = suggestionMarker('pr-check', 'hunt', '');

test("a PR file's hunks give the head-side lines a comment can sit on, with their text and hunk", () => {
  const lines = commentableLines(parseHunks(PR_ADDS_SPEC));
  assert.deepEqual([...lines.keys()], [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41]);
  assert.equal(lines.get(39)!.text, HEAD[39]);
  const top = commentableLines(parseHunks(PR_TOUCHES_TOP));
  assert.deepEqual([...top.keys()], [30, 31, 32, 33], 'the removed line has no head-side number');
  const two = commentableLines(parseHunks(`@@ -1,2 +1,2 @@\n a\n-b\n+B\n@@ -10,1 +10,2 @@\n j\n+k\n\\ No newline at end of file`));
  assert.deepEqual([...two.entries()].map(([line, { hunk, text }]) => [line, hunk, text]), [[1, 0, 'a'], [2, 0, 'B'], [10, 1, 'j'], [11, 1, 'k']]);
});

test('a git diff is read by file, on its new-side path', () => {
  const files = parseFileDiffs(WAIT_PATCH_WITH_IMPORT);
  assert.deepEqual(files.map((f) => [f.path, f.hunks.map((h) => [h.oldStart, h.newStart, h.lines.length])]), [[SPEC_FILE, [[5, 5, 4], [38, 39, 6]]]]);
});

test('an insertion replaces the line before it with that line and the inserted ones', () => {
  const [hunk] = parseFileDiffs(WAIT_PATCH)[0]!.hunks;
  assert.deepEqual(changeBlocks(hunk!), [{ start: 39, end: 39, original: [HEAD[39]], replacement: [HEAD[39], ...WAIT] }]);
});

test('a replacement covers the removed lines; an insertion at a hunk top leans on the line after it', () => {
  assert.deepEqual(changeBlocks(parseHunks('@@ -4,4 +4,3 @@\n a\n-b\n-c\n+BC\n d')[0]!), [{ start: 5, end: 6, original: ['b', 'c'], replacement: ['BC'] }]);
  assert.deepEqual(changeBlocks(parseHunks('@@ -1,2 +1,3 @@\n+// header\n package x\n x')[0]!), [{ start: 1, end: 1, original: ['package x'], replacement: ['// header', 'package x'] }]);
  assert.deepEqual(changeBlocks(parseHunks('@@ -3,3 +3,2 @@\n a\n-b\n c')[0]!), [{ start: 4, end: 4, original: ['b'], replacement: [] }], 'a removal suggests an empty block');
  assert.deepEqual(changeBlocks(parseHunks('@@ -1,3 +1,3 @@\n-a\n+A\n b\n-c\n+C')[0]!).map((b) => [b.start, b.end]), [[1, 1], [3, 3]], 'two runs, two blocks');
  assert.deepEqual(changeBlocks(parseHunks('@@ -1,1 +1,3 @@\n+x\n b\n+y')[0]!), [{ start: 1, end: 1, original: ['b'], replacement: ['x', 'b', 'y'] }], 'insertions around one line are one block');
});

test('an offered fix whose changed line is in the diff becomes one suggestion on that head line', () => {
  const plan = planSuggestions(reportWithFix(offeredFix()), [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }], MARKER);
  assert.deepEqual(plan.kept, []);
  assert.equal(plan.comments.length, 1);
  const [comment] = plan.comments;
  assert.deepEqual({ ...comment, body: undefined }, { path: SPEC_FILE, line: 39, side: 'RIGHT', body: undefined }, 'one line: no start_line');
  assert.equal(comment!.body.split('\n')[0], MARKER, 'the marker is its first line');
  assert.ok(comment!.body.includes('```suggestion\n' + [HEAD[39], ...WAIT].join('\n') + '\n```'), comment!.body);
  assert.match(comment!.body, /after the fix 0 of 10 failed after .*; before: 4 of 6/);
  assert.match(comment!.body, /<code>creates iris2<\/code>/);
});

test('a fix whose line is not in the diff stays in the diff block, and says why', () => {
  const plan = planSuggestions(reportWithFix(offeredFix()), [{ filename: SPEC_FILE, patch: PR_TOUCHES_TOP }, { filename: 'go.mod', patch: '@@ -1 +1 @@\n-module a\n+module b' }], MARKER);
  assert.deepEqual(plan.comments, []);
  assert.deepEqual(plan.kept, [{ file: SPEC_FILE, line: 38, why: `${SPEC_FILE}:39 is not in the pull request's diff` }]);
  const untouched = planSuggestions(reportWithFix(offeredFix()), [{ filename: 'go.mod', patch: '@@ -1 +1 @@\n-module a\n+module b' }], MARKER);
  assert.match(untouched.kept[0]!.why, /not in the pull request's diff/);
});

test('a fix goes whole or not at all: its import hunk outside the diff keeps it out of the review', () => {
  const plan = planSuggestions(reportWithFix(offeredFix(WAIT_PATCH_WITH_IMPORT)), [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }], MARKER);
  assert.deepEqual(plan.comments, []);
  assert.equal(plan.kept[0]!.why, `${SPEC_FILE}:5 is not in the pull request's diff`);
  // With the import lines in the diff too, both changes go, each saying they belong together.
  const importHunk = '@@ -4,3 +4,4 @@ import (\n \t. "github.com/onsi/ginkgo/v2"\n \t. "github.com/onsi/gomega"\n+\tmetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"\n \t"sigs.k8s.io/controller-runtime/pkg/client"';
  const both = planSuggestions(reportWithFix(offeredFix(WAIT_PATCH_WITH_IMPORT)), [{ filename: SPEC_FILE, patch: `${importHunk}\n${PR_ADDS_SPEC}` }], MARKER);
  assert.deepEqual(both.kept, []);
  assert.deepEqual(both.comments.map((c) => [c.line, /change (\d) of 2; commit them together/.exec(c.body)?.[1]]), [[5, '1'], [39, '2']]);
});

test("a head whose line differs from the patch's (lines shifted by a merge) gets no suggestion", () => {
  const shifted = PR_ADDS_SPEC.replace('+' + HEAD[39], '+\t\tBy("draining")');
  const plan = planSuggestions(reportWithFix(offeredFix()), [{ filename: SPEC_FILE, patch: shifted }], MARKER);
  assert.deepEqual(plan.comments, []);
  assert.match(plan.kept[0]!.why, /not the line the patch was proven on/);
});

test('a range spanning two hunks of the diff is not suggested; within one hunk it is, as start_line..line', () => {
  const patch = `diff --git a/x.go b/x.go\n--- a/x.go\n+++ b/x.go\n@@ -10,4 +10,3 @@\n a\n-b\n-c\n+BC\n d\n`;
  const fix = { ...offeredFix(patch), file: 'x.go' };
  const one = planSuggestions(reportWithFix(fix), [{ filename: 'x.go', patch: '@@ -9,5 +9,5 @@\n z\n a\n b\n-old\n+c\n d' }], MARKER);
  assert.deepEqual(one.comments.map((c) => [c.start_line, c.start_side, c.line, c.side]), [[11, 'RIGHT', 12, 'RIGHT']]);
  assert.ok(one.comments[0]!.body.endsWith('```suggestion\nBC\n```'));
  const split = planSuggestions(reportWithFix(fix), [{ filename: 'x.go', patch: '@@ -10,2 +10,2 @@\n a\n-x\n+b\n@@ -12,1 +12,1 @@\n-y\n+c' }], MARKER);
  assert.match(split.kept[0]!.why, /spans two hunks/);
});

test('victims of the same polluter share one suggestion; a fix not offered gets none', () => {
  const shared = planSuggestions(reportWithFix(offeredFix(), ['creates iris2', 'restores iris2']), [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }], MARKER);
  assert.equal(shared.comments.length, 1);
  assert.match(shared.comments[0]!.body, /<code>creates iris2<\/code>, <code>restores iris2<\/code>/);
  const refused = { ...offeredFix(), offered: false, patch: undefined, noFix: 'the patched pair still failed' };
  assert.deepEqual(planSuggestions(reportWithFix(refused), [{ filename: SPEC_FILE, patch: PR_ADDS_SPEC }], MARKER), { comments: [], kept: [] });
});

test("a suggestion's fence outlasts the backticks of a Go raw string; control characters keep it out", () => {
  assert.equal(suggestionBlock(['\tq := `', '```', '`']), '````suggestion\n\tq := `\n```\n`\n````');
  assert.equal(suggestionBlock(['\tname := "a\u001b[2Jb"']), undefined);
});

const planned = (line: number, body = 'B', start?: number): SuggestionComment => ({ path: SPEC_FILE, line, side: 'RIGHT', ...(start ? { start_line: start, start_side: 'RIGHT' } : {}), body });

test('a later run keeps a current suggestion, updates its body, replaces an outdated one, removes one no longer offered', () => {
  const existing = [
    { id: 1, path: SPEC_FILE, line: 39, start_line: null, body: 'B' },
    { id: 2, path: SPEC_FILE, line: 50, start_line: null, body: 'old' },
    { id: 3, path: SPEC_FILE, line: null, start_line: null, body: 'B' },
    { id: 4, path: 'other_test.go', line: 12, start_line: null, body: 'B' },
  ];
  const changes = reconcileSuggestions(existing, [planned(39), planned(50, 'new'), planned(60)]);
  assert.deepEqual(changes.unchanged.map((c) => c.id), [1]);
  assert.deepEqual(changes.update, [{ id: 2, body: 'new' }]);
  assert.deepEqual(changes.create.map((c) => c.line), [60]);
  assert.deepEqual(changes.remove.map((c) => c.id).sort(), [3, 4], 'the outdated one and the one no longer offered');
  assert.deepEqual(reconcileSuggestions(existing.slice(0, 1), [planned(39, 'B', 38)]).create.length, 1, 'a range is another comment than its last line alone');
  assert.deepEqual(reconcileSuggestions(existing, []).remove.length, 4, 'nothing offered: every one of ours goes');
});

test('after a race, the newest suggestion on each line stays', () => {
  const dupes = duplicateSuggestions([
    { id: 7, path: SPEC_FILE, line: 39, body: 'B' },
    { id: 9, path: SPEC_FILE, line: 39, body: 'B' },
    { id: 8, path: SPEC_FILE, line: 40, body: 'B' },
    { id: 6, path: SPEC_FILE, line: null, body: 'B' },
  ]);
  assert.deepEqual(dupes.map((d) => d.id), [7]);
});
