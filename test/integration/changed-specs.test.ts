// A pull request's own specs, hunted harder: a scratch git repository holds a small real Ginkgo
// suite at a base commit, and a PR commit that adds one order-dependent spec (it fails after a
// spec of the base that leaves shared state behind) and changes one clean spec. The hunt maps the
// diff through Go's parser (tools/gosource) to the two specs, gives them their extra runs, finds
// the new victim and marks it new; the PR comment (through the local GitHub server) says how hard
// the changed specs were tried.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { hunt } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import { publish } from '../../src/github/publish.ts';
import { useCluster } from '../support/cluster.ts';
import { fixtures } from '../support/paths.ts';
import { startGitHubServer } from '../support/github-server.ts';
import { publishSettings, pullRequestEvent } from '../unit/github-fixtures.ts';

const work = mkdtempSync(join(tmpdir(), 'kf-changed-'));
after(() => rmSync(work, { recursive: true, force: true }));
const repo = join(work, 'operator');

const suite = `package widgets

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestWidgets(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Widgets Suite")
}
`;

const baseSpecs = `package widgets

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Shared by the specs of this process, as a cluster object would be.
var marker bool

var _ = Describe("Widgets", func() {
	It("leaves a marker", func() {
		marker = true
	})

	It("counts to three", func() {
		Expect(1 + 2).To(Equal(3))
	})

	It("says hello", func() {
		Expect("hello").To(HavePrefix("he"))
	})
})
`;

// The PR: "says hello" changes (still clean); "creates the marker" is new and fails after "leaves a marker".
const prSpecs = baseSpecs
  .replace('Expect("hello").To(HavePrefix("he"))', 'Expect("hello, world").To(HavePrefix("hello"))')
  .replace(`	It("says hello", func() {`, `	It("creates the marker", func() {
		Expect(marker).To(BeFalse(), \`configmaps "kf-marker" already exists\`)
	})

	It("says hello", func() {`);

async function git(...args: string[]): Promise<string> {
  const result = await runProcess(['git', '-c', 'user.name=kubeflake test', '-c', 'user.email=test@kubeflake.invalid', ...args], { cwd: repo, capture: true });
  assert.equal(result.exitCode, 0, `git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

test('a PR that adds an order-dependent spec and changes a clean one: both get their extra runs, the victim is found and marked new, the comment says how hard they were tried', async () => {
  const cluster = await useCluster();
  mkdirSync(join(repo, 'widgets'), { recursive: true });
  copyFileSync(join(fixtures, 'gosrc', 'go.mod'), join(repo, 'go.mod'));
  copyFileSync(join(fixtures, 'gosrc', 'go.sum'), join(repo, 'go.sum'));
  writeFileSync(join(repo, 'widgets', 'suite_test.go'), suite);
  writeFileSync(join(repo, 'widgets', 'widgets_test.go'), baseSpecs);
  await git('init', '--quiet', '--initial-branch=main');
  await git('add', '-A');
  await git('commit', '--quiet', '-m', 'base');
  const base = await git('rev-parse', 'HEAD');
  writeFileSync(join(repo, 'widgets', 'widgets_test.go'), prSpecs);
  await git('commit', '--quiet', '-am', 'the PR');
  // Built once outside the hunt, so its runs measure the suite.
  await runProcess(['go', 'test', '-count=1', '-run=^$', './...'], { cwd: repo, capture: true, timeoutMs: 600_000 });

  const settings = parseSettings({
    command: ['go', 'test', './...'],
    'working-directory': repo,
    cluster: 'existing',
    kubeconfig: cluster.kubeconfigPath,
    envtest: 'off',
    results: join(work, 'results'),
    runs: '3',
    seed: '7',
    'changed-since': base,
    'changed-runs': '10',
  }, {});
  const report = await hunt(settings, recordingPresenter());

  const byName = new Map(report.tests.map((t) => [t.name, t]));
  const victim = byName.get('Widgets creates the marker');
  const changed = byName.get('Widgets says hello');
  assert.deepEqual(new Map(report.changed?.specs.map((spec) => [report.tests.find((t) => t.id === spec.test)?.name, spec.change])), new Map([['Widgets creates the marker', 'new'], ['Widgets says hello', 'changed']]));
  // Ten extra runs, each focused on the package of the changed specs, on seeds after the planned ones.
  const extra = report.runs.filter((run) => run.extra?.purpose === 'changed');
  assert.equal(extra.length, 10);
  assert.deepEqual(extra.map((run) => run.id), ['003', '004', '005', '006', '007', '008', '009', '010', '011', '012']);
  assert.ok(extra.every((run) => run.order.includes(victim!.id) && run.order.includes(changed!.id)));
  assert.equal(report.changed?.runs, 10);

  assert.equal(victim?.verdict, 'order-dependent', JSON.stringify(victim));
  assert.equal(victim?.change, 'new');
  assert.deepEqual(victim?.polluters.map((p) => [report.tests.find((t) => t.id === p.test)?.name, p.confirmed]), [['Widgets leaves a marker', true]]);
  assert.equal(changed?.verdict, 'stable');
  assert.equal(changed?.change, 'changed');
  assert.equal(byName.get('Widgets counts to three')?.change, undefined, 'an untouched spec is not marked');
  assert.match(report.changed?.summary ?? '', /^2 changed specs: 10 runs each, \d+ directed pairs?, 1 of them failed$/);

  // The PR comment marks the finding and says how hard the changed specs were tried.
  const server = await startGitHubServer();
  try {
    const pr = server.addPullRequest('a'.repeat(40));
    const outcome = await publish({ report, settings: publishSettings(server, pullRequestEvent(pr, 'a'.repeat(40))), markdown: {}, now: '2026-12-07T06:00:00Z', log: () => undefined });
    assert.ok(outcome.commentUrl, outcome.notes.join('\n'));
    assert.deepEqual(server.violations, []);
    const body = server.state.comments.find((comment) => comment.issue === pr)?.body ?? '';
    assert.match(body, /<code>Widgets creates the marker<\/code>.*<sub>new in this PR<\/sub>/);
    assert.match(body, /\*\*Changed specs\*\* \(since <code>[0-9a-f]{12}<\/code>, 1 new\): 2 changed specs: 10 runs each, \d+ directed pairs?, 1 of them failed\./);
  } finally {
    await server.close();
  }
});
