// A hunt with nothing to fix spends nothing on fixes: with fix-probes left on, a hunt of a suite
// whose specs all pass confirms no polluter, so it never builds or runs the Go source reader
// (tools/gosource: it would be built into the hunt's cache folder, empty here) and runs no fix
// pair (no fixes/ folder, no run beyond the hunt's own, no fix line in the log).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hunt } from '../../src/pipeline.ts';
import { recordingPresenter } from '../../src/presenter.ts';
import { parseSettings } from '../../src/settings.ts';
import { files } from '../../src/results.ts';
import { useCluster } from '../support/cluster.ts';
import { ginkgoCli, runnerFixture } from '../support/ginkgo.ts';

test('a hunt that confirms no polluter never builds or runs tools/gosource and runs no fix probe (fix-probes 10)', async () => {
  const cluster = await useCluster();
  const ginkgo = await ginkgoCli();
  const work = mkdtempSync(join(tmpdir(), 'kubeflake-fix-nothing-'));
  const settings = parseSettings({
    command: ['ginkgo', './...'],
    'working-directory': join(runnerFixture, 'ginkgo', 'othersuite'),
    cluster: 'existing',
    kubeconfig: cluster.kubeconfigPath,
    results: join(work, 'results'),
    runs: '2',
    'fix-probes': '10',
  }, {});
  settings.testEnv = { PATH: ginkgo.env.PATH! };
  // A cache of its own: the helper, had the hunt wanted it, would be built here.
  settings.cacheDir = join(work, 'cache');
  assert.equal(settings.fixProbes, 10);
  const presenter = recordingPresenter();
  const report = await hunt(settings, presenter);

  assert.equal(report.verdict, 'clean', presenter.lines.join('\n'));
  assert.ok(report.tests.every((t) => t.polluters.length === 0 && t.fix === undefined));
  const built = existsSync(join(settings.cacheDir, 'bin')) ? readdirSync(join(settings.cacheDir, 'bin')).filter((name) => name.startsWith('gosource-')) : [];
  assert.deepEqual(built, [], 'the Go source reader was built');
  assert.equal(existsSync(join(settings.resultsDir, files.fixes)), false, 'a fix was kept or a fix pair ran');
  assert.deepEqual(report.runs.map((run) => run.id), ['000', '001'], 'only the hunt\'s own runs');
  assert.deepEqual(presenter.lines.filter((line) => /^(::group::)?fix\b/.test(line)), []);
});
