import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { projectRoot } from '../support/paths.ts';

// The action runs dist/index.js, not src/: a stale bundle ships old behaviour.
test('dist/ is exactly what `npm run build` produces from src/', { timeout: 600_000 }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'kubeflake-dist-')), 'dist');
  const build = await runProcess([process.execPath, join(projectRoot, 'scripts', 'build.js'), out], { cwd: projectRoot, capture: true });
  assert.equal(build.exitCode, 0, `the build failed:\n${build.stdout}${build.stderr}`);
  const committed = join(projectRoot, 'dist');
  assert.ok(existsSync(committed), 'dist/ is missing: run `npm run build` and commit dist/');
  const list = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
  assert.deepEqual(list(committed), list(out), 'dist/ holds other files than the build makes: run `npm run build` and commit dist/');
  for (const file of list(out)) {
    assert.ok(readFileSync(join(committed, file)).equals(readFileSync(join(out, file))), `dist/${file} is stale: run \`npm run build\` and commit dist/`);
  }
});
