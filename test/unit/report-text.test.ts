import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, mdCode, mdFence, mdText, mermaidLabel, oneLine, safeUrl, truncate } from '../../src/report/text.ts';

test('a fence is longer than any backtick run inside, so content cannot close it', () => {
  assert.equal(mdFence('go test ./...', 'sh'), '```sh\ngo test ./...\n```');
  const inner = 'echo ```\n````\nstill inside';
  const block = mdFence(inner);
  assert.ok(block.startsWith('`````\n') && block.endsWith('\n`````'), block);
  assert.equal(block.slice(6, -6), inner);
});

test('markdown text and code turn every active character into an entity', () => {
  assert.equal(mdText('a|b <i>*x*</i> [l](u) `c` $m$ ~s~ _u_ \\ &amp;'), 'a&#124;b &#60;i&#62;&#42;x&#42;&#60;/i&#62; &#91;l&#93;(u) &#96;c&#96; &#36;m&#36; &#126;s&#126; &#95;u&#95; &#92; &#38;amp;');
  assert.equal(mdCode('@org/team #12 a|b'), '<code>&#64;org/team &#35;12 a&#124;b</code>');
  assert.equal(mdText('ping @org/team about #12 and #x'), 'ping @\u200borg/team about &#35;\u200b12 and &#35;x');
});

test('newlines and control characters never survive into one-line text', () => {
  assert.equal(oneLine('a\r\nb\tc\u001b[31m\u202e'), 'a ⏎ b c\\x1b[31m\\u202e');
  assert.equal(mdFence('x\u001by'), '```\nx\\x1by\n```');
});

test('mermaid labels keep letters and digits and encode the rest', () => {
  assert.equal(mermaidLabel('ModelCache default/iris2'), 'ModelCache default/iris2');
  assert.equal(mermaidLabel('a"]; b`|#'), 'a#34;#93;#59; b#96;#124;#35;');
});

test('only http(s) URLs become links, with link-ending characters encoded', () => {
  assert.equal(safeUrl('javascript:alert(1)'), undefined);
  assert.equal(safeUrl('not a url'), undefined);
  assert.equal(safeUrl('https://example.com/a(b)'), 'https://example.com/a%28b%29');
});

test('truncate counts code points and marks the cut', () => {
  assert.equal(truncate('abcdef', 4), 'abc…');
  assert.equal(truncate('abc', 4), 'abc');
  assert.equal(truncate('😀😀😀', 2), '😀…');
});

test('durations read like a person would say them', () => {
  assert.deepEqual([950, 4_200, 12_400, 133_000, 7_500_000].map(formatDuration), ['950ms', '4.2s', '12s', '2m 13s', '2h 5m']);
});
