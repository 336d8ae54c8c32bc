// `kubeflake parse`: output streamed a test case at a time, and exit codes that tell a clean read,
// an unreadable file and lost test cases apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixture, withTemp } from './ingest-support.ts';
import { parseCommand, parseExit } from '../../src/ingest/cli.ts';



async function parse(files: string[]): Promise<{ code: number; out: unknown[]; pieces: string[]; warned: string[] }> {
  const pieces: string[] = [];
  const warned: string[] = [];
  const code = await parseCommand(files, (s) => pieces.push(s), undefined, (line) => warned.push(line));
  return { code, out: JSON.parse(pieces.join('')) as unknown[], pieces, warned };
}

test('a repaired report exits 0 and lists its repairs; nothing to say on stderr beyond the damage line', async () => {
  const r = await parse([fixture('gotestsum.xml'), fixture('surefire-ansi.xml')]);
  assert.equal(r.code, parseExit.read);
  const [, surefire] = r.out as { cases: unknown[]; damage?: { repairs: number; lost: number } }[];
  assert.equal(surefire!.cases.length, 6);
  assert.deepEqual([surefire!.damage?.repairs, surefire!.damage?.lost], [8, 0]);
  assert.deepEqual(r.warned, ['kubeflake parse: 1 report was damaged; every test case was recovered (see "damage" in the output)']);
  const clean = await parse([fixture('gotestsum.xml')]);
  assert.deepEqual([clean.code, clean.warned], [0, []]);
});

test('test cases lost in a cut report exit 3; an unreadable file exits 1 whatever else happened', async () => {
  await withTemp(async (dir) => {
    const ginkgo = await readFile(fixture('ginkgo-junit.xml'), 'utf8');
    const cut = join(dir, 'cut.xml');
    await writeFile(cut, ginkgo.slice(0, ginkgo.indexOf('<testcase name="[It] Gadget panics"') + 25));
    const lost = await parse([fixture('gotestsum.xml'), cut]);
    assert.equal(lost.code, parseExit.lost);
    assert.equal(lost.code, 3);
    assert.match(lost.warned[0]!, /1 report was damaged; 1 test case could not be recovered; 1 ends early/);
    const both = await parse([cut, fixture('hostile/pom.xml')]);
    assert.equal(both.code, parseExit.unreadable);
    assert.match((both.out[1] as { error: string }).error, /pom\.xml: is a Maven pom\.xml/);
  });
});

test('200,000 cases are written a piece at a time, never as one string, and read back exactly', async () => {
  await withTemp(async (dir) => {
    const file = join(dir, 'many.xml');
    const out = createWriteStream(file);
    out.write('<testsuites><testsuite name="example.com/widgets">\n');
    for (let i = 0; i < 200_000; i++) {
      if (!out.write(`<testcase classname="example.com/widgets" name="TestWidget_${i}" time="0.001"/>\n`)) {
        await new Promise<void>((r) => out.once('drain', () => r()));
      }
    }
    await new Promise<void>((resolve) => out.end('</testsuite></testsuites>\n', () => resolve()));
    const r = await parse([file]);
    const [report] = r.out as { cases: { name: string }[] }[];
    assert.equal(report!.cases.length, 200_000);
    assert.equal(report!.cases[199_999]!.name, 'TestWidget_199999');
    assert.ok(r.pieces.length > 100, `${r.pieces.length} pieces`);
    assert.ok(Math.max(...r.pieces.map((p) => p.length)) < 128 * 1024, 'each piece is small');
  });
});
