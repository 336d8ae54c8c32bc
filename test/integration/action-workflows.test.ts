// The example workflows in examples/workflows/ are checked by actionlint (built from the Go
// module proxy into kubeflake's cache, reusing the Go build cache), and each asks for the
// least the job needs: no write permission it does not use.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runProcess } from '../../src/exec.ts';
import { projectRoot } from '../support/paths.ts';

const ACTIONLINT = 'v1.7.12';
const dir = join(projectRoot, 'examples', 'workflows');
const workflows = readdirSync(dir).filter((f) => f.endsWith('.yml')).sort();

async function goAvailable(): Promise<boolean> {
  try {
    return (await runProcess(['go', 'version'], { capture: true })).exitCode === 0;
  } catch {
    return false;
  }
}

test('actionlint finds nothing in the example workflows', { timeout: 600_000 }, async (t) => {
  if (!(await goAvailable())) {
    t.skip('Go is not installed: actionlint is built with `go install`; install Go to run this check');
    return;
  }
  const binDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kubeflake', 'bin', `actionlint-${ACTIONLINT}`);
  const binary = join(binDir, 'actionlint');
  if (!existsSync(binary)) {
    const built = await runProcess(['go', 'install', `github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT}`], { extraEnv: { GOBIN: binDir }, capture: true });
    assert.equal(built.exitCode, 0, `go install actionlint: ${built.stderr}`);
  }
  const lint = await runProcess([binary, '-no-color', ...workflows.map((f) => join(dir, f))], { capture: true });
  assert.equal(lint.exitCode, 0, lint.stdout + lint.stderr);
});

test('each example workflow asks for exactly the permissions its job uses', () => {
  const expected: Record<string, Record<string, string>> = {
    'pr-check.yml': { contents: 'read', 'pull-requests': 'write', issues: 'read' },
    'nightly.yml': { contents: 'read', issues: 'write' },
    'fork-check.yml': { contents: 'read' },
    'fork-publish.yml': { actions: 'read', 'pull-requests': 'write', issues: 'read' },
    'shards.yml': { contents: 'read', 'pull-requests': 'write', issues: 'read' },
  };
  assert.deepEqual(workflows, Object.keys(expected).sort());
  for (const file of workflows) {
    const workflow = parse(readFileSync(join(dir, file), 'utf8')) as { permissions?: Record<string, string>; on: Record<string, unknown> };
    assert.deepEqual(workflow.permissions, expected[file], file);
  }
  const publish = parse(readFileSync(join(dir, 'fork-publish.yml'), 'utf8')) as { on: { workflow_run: { workflows: string[] } } };
  const check = parse(readFileSync(join(dir, 'fork-check.yml'), 'utf8')) as { name: string };
  assert.deepEqual(publish.on.workflow_run.workflows, [check.name], 'the publisher listens to the fork-safe check by its name');
});
