// Detection by what runs (the program's content, the shim's records) and the decision to stop a
// hunt whose first run gave no results.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectExecutable, driveStyleOf, fileContains, firstRunStop, frameworkAfterFirstRun, ginkgoCliMark, programWord, type FirstRunFacts } from '../../src/frameworks/go-exec-detect.ts';

const dir = mkdtempSync(join(tmpdir(), 'kf-detect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the program word: after env words and an env prefix', () => {
  assert.equal(programWord(['go', 'test']), 'go');
  assert.equal(programWord(['KUBECONFIG=x', 'A=1', './hack/test.sh']), './hack/test.sh');
  assert.equal(programWord(['env', 'A=1', 'bin/gk', 'run']), 'bin/gk');
  assert.equal(programWord(['A=1']), undefined);
});

test('a ginkgo CLI is known by its content under any name; scripts and other binaries are not it', () => {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const fakeElf = (mark: string) => Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(4096), Buffer.from(mark), Buffer.alloc(16)]);
  writeFileSync(join(dir, 'bin', 'gk'), fakeElf(`${ginkgoCliMark}(*RunCommand).Run`));
  writeFileSync(join(dir, 'bin', 'controller-gen'), fakeElf('sigs.k8s.io/controller-tools'));
  writeFileSync(join(dir, 'test.sh'), '#!/bin/sh\nginkgo -r\n');
  for (const file of ['bin/gk', 'bin/controller-gen', 'test.sh']) chmodSync(join(dir, file), 0o755);
  assert.equal(detectExecutable('bin/gk', dir, ''), 'ginkgo-cli');
  assert.equal(detectExecutable(join(dir, 'bin', 'gk'), '/', ''), 'ginkgo-cli');
  assert.equal(detectExecutable('gk', '/', `/nonexistent:${join(dir, 'bin')}`), 'ginkgo-cli', 'found on PATH');
  assert.equal(detectExecutable('controller-gen', '/', join(dir, 'bin')), 'binary');
  assert.equal(detectExecutable('./test.sh', dir, ''), 'script');
  assert.equal(detectExecutable('gk', dir, '/nonexistent'), 'missing');
  assert.equal(detectExecutable('bin', dir, ''), 'missing', 'a folder is no program');
});

test('fileContains finds strings across the 1 MiB read boundary and says which are absent', () => {
  const file = join(dir, 'big');
  const mark = 'github.com/onsi/ginkgo/v2.RunSpecs';
  const at = (1 << 20) - 10;
  const content = Buffer.alloc(3 << 20, 0x20);
  content.write(mark, at, 'latin1');
  writeFileSync(file, content);
  assert.deepEqual(fileContains(file, [mark, 'github.com/onsi/ginkgo.RunSpecs']), [true, false]);
  assert.deepEqual(fileContains(join(dir, 'absent'), [mark]), [false]);
});

const base: FirstRunFacts = {
  runDir: 'results/runs/000',
  command: 'make test',
  style: 'go-exec',
  started: true,
  exitCode: 0,
  timedOut: false,
  reports: 0,
  tests: 0,
  binaries: [],
};

test('the first run decides whether the hunt can go on: a stop says why and what to do', () => {
  const cases: [string, Partial<FirstRunFacts>, RegExp | undefined, RegExp | undefined][] = [
    ['tests reported: go on', { reports: 2, tests: 9 }, undefined, undefined],
    ['tests reported despite a failing exit: go on', { reports: 1, tests: 1, exitCode: 2 }, undefined, undefined],
    ['not started', { started: false, exitCode: null }, /`make test` could not be started/, /results\/runs\/000\/meta\.json/],
    ['timed out', { timedOut: true, exitCode: null }, /killed at the run timeout/, /raise run-timeout/],
    ['reports without tests', { reports: 1 }, /its reports hold no test/, /-run, --focus, --label-filter/],
    ['a script ran no go test', {}, /ran no Go test binary through `go test`/, /give kubeflake that ginkgo command/],
    ['nothing built', { reports: 1, tests: 1, exitCode: 1, unbuilt: ['example.com/op/pkg'] }, /its package did not build \(example\.com\/op\/pkg\)/, /fix the build; the compiler's errors are in the report/],
    ['some packages built and ran: go on', { reports: 2, tests: 5, exitCode: 1, unbuilt: ['example.com/op/a'], binaries: [{ kind: 'go', importPath: 'example.com/op/b' }] }, undefined, undefined],
    ['a renamed ginkgo CLI', { command: 'tools/gk -r', program: 'ginkgo-cli' }, /`tools\/gk -r` is a ginkgo CLI under another name/, /under the name ginkgo/],
    ['a failed build', { exitCode: 2 }, /ran no Go test binary/, /exited with code 2: if the build failed, the errors are in results\/runs\/000\/log\.txt/],
    ['binaries ran, no report', { binaries: [{ kind: 'go', importPath: 'x' }] }, /1 test binaries ran through kubeflake's go test shim/, /go-exec\/\*\.exec\.json/],
    ['ginkgo CLI without reports', { style: 'ginkgo-cli', exitCode: 1 }, /ginkgo wrote no report/, /Ginkgo v2 CLI/],
    ['generic with a glob', { style: 'generic', reportGlob: 'out/*.xml' }, /nothing matched report-glob out\/\*\.xml/, /point report-glob/],
    ['generic without a glob', { style: 'generic' }, /no report-glob says where its reports are/, /set report-glob/],
    ['a compiled test binary', { style: 'test-binary' }, /compiled test binary writes no report/, /run it through `go test`/],
  ];
  for (const [name, facts, reason, todo] of cases) {
    const decision = firstRunStop({ ...base, ...facts });
    if (!reason) {
      assert.deepEqual(decision, { stop: false }, name);
      continue;
    }
    assert.equal(decision.stop, true, name);
    if (!decision.stop) continue;
    assert.match(decision.reason, /^the first run gave no test results: /, name);
    assert.match(decision.reason, /every further run would do the same, so the hunt stops here$/, name);
    assert.match(decision.reason, reason, name);
    assert.match(decision.todo, todo!, name);
  }
});

test('what the first run ran refines the framework: plain go that ran a Ginkgo suite is Ginkgo', () => {
  assert.equal(frameworkAfterFirstRun('go', [{ kind: 'go' }, { kind: 'ginkgo' }]), 'ginkgo');
  assert.equal(frameworkAfterFirstRun('go', [{ kind: 'go' }, { kind: 'ginkgo-v1' }]), 'go');
  assert.equal(frameworkAfterFirstRun('go', []), 'go');
  assert.equal(frameworkAfterFirstRun('generic', [{ kind: 'ginkgo' }]), 'generic', 'a framework the user chose stays');
});

test('the drive style of every command style', () => {
  assert.equal(driveStyleOf('ginkgo-cli', ['ginkgo', '-r']), 'ginkgo-cli');
  assert.equal(driveStyleOf('go-test', ['go', 'test', './...']), 'go-exec');
  assert.equal(driveStyleOf('go-exec', ['make', 'test']), 'go-exec');
  assert.equal(driveStyleOf('ginkgo-binary', ['A=1', 'go', 'test', './...', '-ginkgo.v']), 'go-exec');
  assert.equal(driveStyleOf('ginkgo-binary', ['./x.test', '-ginkgo.v']), 'test-binary');
  assert.equal(driveStyleOf('go-binary', ['./x.test']), 'test-binary');
  assert.equal(driveStyleOf('env', ['make', 'test']), 'generic');
});
