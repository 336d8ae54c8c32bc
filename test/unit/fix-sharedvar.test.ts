// Pollution that is not in the cluster, on real-shaped Ginkgo packages, table-driven: the package
// before, the polluter's and the victim's leaf lines, the variable found (both lines) and the
// victim's file after the reset-shared-variable fix (exactly, as gofmt prints it), or why none.
// Go's parser does the work (tools/gosource, built with this machine's Go, cached). Then the pure
// parts: which pairs are looked at, and the hint every renderer shows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goSourceTool } from '../../src/changed/gosource.ts';
import { defaultCacheDir, findProjectRoot } from '../../src/settings.ts';
import { readSharedVariables, resetSharedVariable } from '../../src/fix/sharedvar.ts';
import { sharedVariableCandidates } from '../../src/fix/candidates.ts';
import { catalogue } from '../../src/fix/catalogue.ts';
import { sharedVariableHint } from '../../src/report/findings.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { renderHtml } from '../../src/report/html.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { validateReport } from '../../src/report/validate.ts';
import type { FixReport, Report, SharedVariableReport, TestReport } from '../../src/model.ts';
import { HuntLog } from '../../src/hunt-log.ts';
import { buildReport } from '../../src/build-report.ts';
import { id, simulate } from './analysis-sim.ts';

const tool = () => goSourceTool({ projectRoot: findProjectRoot(), cacheDir: defaultCacheDir() });

const GREETER = `package greeter_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Greeter", func() {
	greeting := "hello"

	Context("shouting", func() {
		BeforeEach(func() {
			greeting = strings.ToUpper(greeting)
		})

		It("shouts the greeting", func() {
			Expect(greeting).To(Equal("HELLO"))
		})
	})

	Context("whispering", func() {
		It("whispers the greeting", func() {
			Expect(greeting).To(Equal("hello"))
		})
	})
})
`;

const SUITE = `package controller

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var replicas int32

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}
`;

const SCALE = `package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func scaleTo(n int32) {
	replicas = n
}

var _ = Describe("Scaling", func() {
	It("scales the deployment up", func() {
		scaleTo(3)
		Expect(replicas).To(Equal(int32(3)))
	})
})

var _ = Describe("Defaults", func() {
	var wanted int32

	BeforeEach(func() {
		wanted = replicas
	})

	It("starts with no replicas", func() {
		Expect(wanted).To(BeZero())
	})
})
`;

const CACHE = `package controller

import (
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

var _ = ginkgo.Describe("Cache", func() {
	var (
		name  = "iris"
		sizes []int
	)

	ginkgo.It("renames the cache", func() {
		name := "bloom"
		gomega.Expect(name).To(gomega.Equal("bloom"))
		sizes = append(sizes, 1)
	})

	ginkgo.It("keeps its own sizes", func() {
		sizes = nil
		gomega.Expect(sizes).To(gomega.BeEmpty())
	})

	ginkgo.It("uses the default name", func() {
		gomega.Expect(name).To(gomega.Equal("iris"))
		gomega.Expect(sizes).To(gomega.BeEmpty())
	})
})
`;

const QUOTA = `package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Quota", func() {
	var used int

	DescribeTable("charges a request",
		func(cost int, want int) {
			used += cost
			Expect(used).To(Equal(want))
		},
		Entry("a small one", 1, 1),
		Entry("a large one", 5, 5),
	)
})
`;

const FIELDS = `package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

type spec struct{ replicas int }

var replicas = 1

var _ = Describe("Fields", func() {
	It("sets a field of the same name", func() {
		s := spec{replicas: 2}
		s.replicas = 3
		replicas = 4
		Expect(s.replicas).To(Equal(3))
	})

	It("reads only the field", func() {
		s := spec{replicas: 5}
		Expect(s.replicas).To(Equal(5))
	})

	It("reads the package variable", func() {
		Expect(spec{replicas: replicas}.replicas).To(Equal(1))
	})
})
`;

interface Case {
  name: string;
  files: Record<string, string>;
  polluter: [string, number];
  victim: [string, number];
  /** The variable found, lines as `file:line`. */
  found?: { name: string; scope: 'package' | 'container'; declared: string; assigned: string; assignedIn: string; read: string; readIn: string };
  after?: string;
  refused?: RegExp;
}

const cases: Case[] = [
  {
    name: 'a Describe variable a sibling Context\'s BeforeEach reassigns, read by another Context\'s It: reset in the reader\'s container',
    files: { 'greeter_test.go': GREETER },
    polluter: ['greeter_test.go', 18],
    victim: ['greeter_test.go', 24],
    found: { name: 'greeting', scope: 'container', declared: 'greeter_test.go:11', assigned: 'greeter_test.go:15', assignedIn: 'the BeforeEach of "shouting"', read: 'greeter_test.go:25', readIn: 'its It' },
    after: GREETER.replace('\tContext("whispering", func() {\n', '\tContext("whispering", func() {\n\t\t// Other specs reassign greeting: each spec here starts from its declared value.\n\t\tBeforeEach(func() {\n\t\t\tgreeting = "hello"\n\t\t})\n\n'),
  },
  {
    name: 'a package variable of another file, set through a helper the polluter\'s It calls, read in the victim container\'s BeforeEach: reset to its type\'s zero value before that BeforeEach',
    files: { 'suite_test.go': SUITE, 'scale_test.go': SCALE },
    polluter: ['scale_test.go', 13],
    victim: ['scale_test.go', 26],
    found: { name: 'replicas', scope: 'package', declared: 'suite_test.go:10', assigned: 'scale_test.go:9', assignedIn: 'the helper scaleTo, called from its It', read: 'scale_test.go:23', readIn: 'the BeforeEach of "Defaults"' },
    after: SCALE.replace('\tvar wanted int32\n\n', '\tvar wanted int32\n\n\t// Other specs reassign replicas: each spec here starts from its declared value.\n\tBeforeEach(func() {\n\t\treplicas = 0\n\t})\n\n'),
  },
  {
    name: 'a qualified ginkgo import: the local that shadows a shared name is no pollution; the slice it appends to is, reset with ginkgo.BeforeEach after the var block',
    files: { 'cache_test.go': CACHE },
    polluter: ['cache_test.go', 14],
    victim: ['cache_test.go', 25],
    found: { name: 'sizes', scope: 'container', declared: 'cache_test.go:11', assigned: 'cache_test.go:17', assignedIn: 'its It', read: 'cache_test.go:27', readIn: 'its It' },
    after: CACHE.replace('\t)\n\n', '\t)\n\n\t// Other specs reassign sizes: each spec here starts from its declared value.\n\tginkgo.BeforeEach(func() {\n\t\tsizes = nil\n\t})\n\n'),
  },
  {
    name: 'table entries share the table\'s body: += reads before it writes, and the reset goes in the Describe, not the DescribeTable',
    files: { 'quota_test.go': QUOTA },
    polluter: ['quota_test.go', 16],
    victim: ['quota_test.go', 17],
    found: { name: 'used', scope: 'container', declared: 'quota_test.go:9', assigned: 'quota_test.go:13', assignedIn: 'the body of its DescribeTable', read: 'quota_test.go:13', readIn: 'the body of its DescribeTable' },
    after: QUOTA.replace('\tvar used int\n\n', '\tvar used int\n\n\t// Other specs reassign used: each spec here starts from its declared value.\n\tBeforeEach(func() {\n\t\tused = 0\n\t})\n\n'),
  },
  {
    name: 'a field or struct key of the same name is not the package variable: only the real assignment and read count',
    files: { 'fields_test.go': FIELDS },
    polluter: ['fields_test.go', 13],
    victim: ['fields_test.go', 25],
    found: { name: 'replicas', scope: 'package', declared: 'fields_test.go:10', assigned: 'fields_test.go:16', assignedIn: 'its It', read: 'fields_test.go:26', readIn: 'its It' },
    after: FIELDS.replace('var _ = Describe("Fields", func() {\n', 'var _ = Describe("Fields", func() {\n\t// Other specs reassign replicas: each spec here starts from its declared value.\n\tBeforeEach(func() {\n\t\treplicas = 1\n\t})\n\n'),
  },
  {
    name: 'a spec that touches only a field of that name shares nothing',
    files: { 'fields_test.go': FIELDS },
    polluter: ['fields_test.go', 13],
    victim: ['fields_test.go', 20],
    refused: /the victim reads no variable that the polluter's own nodes assign/,
  },
  {
    name: 'a victim that sets the variable before it reads it is not polluted through it',
    files: { 'cache_test.go': CACHE },
    polluter: ['cache_test.go', 14],
    victim: ['cache_test.go', 20],
    refused: /the victim reads no variable that the polluter's own nodes assign/,
  },
  {
    name: 'a line where no spec starts is said',
    files: { 'cache_test.go': CACHE },
    polluter: ['cache_test.go', 3],
    victim: ['cache_test.go', 25],
    refused: /no Ginkgo spec of .*cache_test\.go starts at line 3/,
  },
];

for (const c of cases) {
  test(`reset-shared-variable: ${c.name}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubeflake-fix-sharedvar-'));
    try {
      for (const [name, content] of Object.entries(c.files)) await writeFile(join(dir, name), content);
      const pair = { polluterFile: join(dir, c.polluter[0]), polluterLine: c.polluter[1], victimFile: join(dir, c.victim[0]), victimLine: c.victim[1] };
      const at = (place: { file: string; line: number }) => `${place.file.slice(dir.length + 1)}:${place.line}`;
      const read = await readSharedVariables(await tool(), pair);
      if (c.found) {
        assert.ok('found' in read, 'error' in read ? read.error : '');
        const [v] = read.found;
        assert.ok(v, 'a shared variable is found');
        assert.deepEqual(
          { name: v.name, scope: v.scope, declared: at(v.declared), assigned: at(v.assigned), assignedIn: v.assigned.what, read: at(v.read), readIn: v.read.what },
          c.found,
        );
      }
      const patched = await resetSharedVariable(await tool(), pair);
      if (c.after !== undefined) {
        assert.ok(patched.patched, patched.patched ? '' : patched.reason);
        assert.equal(patched.file, pair.victimFile);
        assert.equal(patched.source, c.after);
      } else {
        assert.equal(patched.patched, false);
        assert.match(patched.patched ? '' : patched.reason, c.refused!);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

const P = 'S :: Greeter shouting shouts the greeting';
const V = 'S :: Greeter whispering whispers the greeting';

function testReport(id: string, more: Partial<TestReport>): TestReport {
  return { id, name: id.slice(5), suite: 'S', file: '', line: 0, verdict: 'stable', passed: 1, failed: 0, failureKinds: [], polluters: [], cleaners: [], stateSetters: [], reproduce: '', ...more };
}

function report(tests: TestReport[]): Report {
  return {
    schema: 'kubeflake/report@1', command: 'go test ./...', framework: 'ginkgo', cluster: 'none', tests, leaks: [], verdict: 'findings', version: '0', generatedAt: '',
    runs: [{ id: '001', seed: 4, exitCode: 1, durationMs: 1, timedOut: false, order: [P, V], failed: [V], probe: false }],
    cleanup: { dryRun: false, deleted: [], finalizersRemoved: [], left: [] },
  } as unknown as Report;
}

const victim = testReport(V, {
  file: 'greeter_test.go', line: 24, verdict: 'order-dependent', failed: 1, failureKinds: ['AssertionFailed'],
  failures: [{ run: '001', kind: 'AssertionFailed', signature: 'x', message: 'Expected\n    <string>: HELLO\nto equal\n    <string>: hello' }],
  polluters: [{ test: P, confirmed: true, via: [], decidedBy: 'probes', after: { failed: 3, runs: 3 } }],
});
const polluter = testReport(P, { file: 'greeter_test.go', line: 18 });

test('candidates: a confirmed polluter that links through no object, with both source locations; a leak, a record link, a named object or a suspect is not one', () => {
  const [c, ...rest] = sharedVariableCandidates(report([victim, polluter]), [], '/repo');
  assert.deepEqual(rest, []);
  assert.deepEqual(
    { victim: c?.victim, polluter: c?.polluter, pf: c?.polluterFile, pl: c?.polluterLine, vf: c?.victimFile, vl: c?.victimLine, kind: c?.entry.kind, before: c?.before, seed: c?.plan.seed, tests: c?.plan.tests },
    { victim: V, polluter: P, pf: '/repo/greeter_test.go', pl: 18, vf: '/repo/greeter_test.go', vl: 24, kind: 'reset-shared-variable', before: { failed: 3, runs: 3 }, seed: 4, tests: [P, V] },
  );
  const leak = { ...victim, polluters: [{ ...victim.polluters[0]!, via: [0] }] };
  assert.deepEqual(sharedVariableCandidates(report([leak, polluter]), [], '/repo'), []);
  const named = { ...victim, failures: [{ ...victim.failures![0]!, message: 'object is being deleted: modelcaches.cache.kubeflake.dev "iris2" already exists' }] };
  assert.deepEqual(sharedVariableCandidates(report([named, polluter]), [], '/repo'), []);
  const suspected = { ...victim, polluters: [{ ...victim.polluters[0]!, confirmed: false }] };
  assert.deepEqual(sharedVariableCandidates(report([suspected, polluter]), [], '/repo'), []);
  assert.deepEqual(sharedVariableCandidates(report([{ ...victim, file: '' }, polluter]), [], '/repo'), []);
  assert.equal(catalogue.find((entry) => entry.kind === 'reset-shared-variable')?.subcommand, 'reset-shared-var');
});

const variable: SharedVariableReport = {
  name: 'greeting', scope: 'container',
  declared: { file: 'greeter_test.go', line: 11 },
  assigned: { file: 'greeter_test.go', line: 15, what: 'the BeforeEach of "shouting"' },
  read: { file: 'greeter_test.go', line: 25, what: 'its It' },
};

test('the hint names the variable with both lines, and the markdown, HTML and terminal reports show it; the report validates', () => {
  const hint = sharedVariableHint(variable, 'Greeter shouting shouts the greeting');
  assert.equal(hint, 'Greeter shouting shouts the greeting assigns greeting at greeter_test.go:15 (the BeforeEach of "shouting"); this spec reads it at greeter_test.go:25 (its It) before setting it: set greeting (a variable of an enclosing container, greeter_test.go:11) in this spec\'s own BeforeEach, or make it local to the polluter.');
  const fix: FixReport = { kind: 'reset-shared-variable', polluter: P, sharedVariable: variable, file: 'greeter_test.go', lines: { start: 24, end: 24 }, offered: false, noFix: 'fix-probes was spent before the patched pair could run' };
  const shown = report([{ ...victim, hint, fix }, polluter]);
  const checked = validateReport(JSON.parse(JSON.stringify(shown)));
  assert.ok(checked.ok, checked.ok ? '' : checked.errors.join('; '));
  const lines = /greeter(_|&#95;|\\_)test\.go:15.*greeter(_|&#95;|\\_)test\.go:25/s;
  assert.match(renderMarkdown(shown), lines);
  assert.match(renderHtml(shown), /assigns greeting .*greeter_test\.go:15 \(the BeforeEach of &#34;shouting&#34;\); this spec reads it at greeter_test\.go:25/);
  assert.match(renderTerminal(shown, { color: false }).replace(/\s+/g, ' '), /assigns greeting .*greeter_test\.go:15 .*reads it at greeter_test\.go:25/);
  const bad = JSON.parse(JSON.stringify(shown)) as { tests: { fix?: { sharedVariable?: { scope: string } } }[] };
  bad.tests[0]!.fix!.sharedVariable!.scope = 'global';
  assert.equal(validateReport(bad).ok, false);
});

test('a kept fix that names a shared variable gives its victim that hint when the report is rebuilt from the results directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubeflake-fix-sharedvar-report-'));
  try {
    const [shouts, whispers] = [id('Greeter shouting shouts the greeting'), id('Greeter whispering whispers the greeting')];
    const log = await HuntLog.start(dir, { command: ['go', 'test', './...'], framework: 'ginkgo', cluster: 'none', cwd: dir, baseSeed: 1, runs: 1, options: {}, startedAt: 0, ignore: [], watch: false });
    await log.addFix(whispers, { kind: 'reset-shared-variable', polluter: shouts, sharedVariable: variable, offered: false, noFix: 'fix-probes was spent before the patched pair could run' });
    const loaded = await HuntLog.load(dir);
    const run = simulate([shouts, whispers], () => undefined, { id: '000', seed: 1 });
    const built = buildReport({ ...loaded, runs: [{ run, leaks: [], leftover: [], observed: false, timeline: [] }] });
    const victimReport = built.tests.find((t) => t.id === whispers);
    assert.deepEqual(victimReport?.fix?.sharedVariable, variable);
    assert.equal(victimReport?.hint, sharedVariableHint(variable, 'Greeter shouting shouts the greeting'));
    assert.equal(built.tests.find((t) => t.id === shouts)?.hint, undefined, 'the polluter keeps its own hint');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
