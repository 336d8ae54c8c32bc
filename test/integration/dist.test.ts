import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/exec.ts';
import { projectRoot } from '../support/paths.ts';

// The action runs dist/index.js, not src/: a stale bundle ships old behaviour.
test('dist/ is exactly what `npm run build` produces from src/', { timeout: 600_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'kubeflake-dist-'));
  const bin = join(projectRoot, 'node_modules', '.bin');
  const tsc = await runProcess([join(bin, 'tsc'), '-p', 'tsconfig.build.json'], { cwd: projectRoot, capture: true });
  assert.equal(tsc.exitCode, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  const ncc = await runProcess([join(bin, 'ncc'), 'build', 'lib/main.js', '-o', out, '--minify', '--license', 'licenses.txt', '--quiet'], { cwd: projectRoot, capture: true });
  assert.equal(ncc.exitCode, 0, `ncc failed:\n${ncc.stdout}${ncc.stderr}`);
  // The post step (action.yml runs.post) is its own bundle.
  const post = await runProcess([join(bin, 'ncc'), 'build', 'lib/post.js', '-o', join(out, 'post'), '--minify', '--quiet'], { cwd: projectRoot, capture: true });
  assert.equal(post.exitCode, 0, `ncc failed on the post step:\n${post.stdout}${post.stderr}`);
  const committed = join(projectRoot, 'dist');
  assert.ok(existsSync(committed), 'dist/ is missing: run `npm run build` and commit dist/');
  const list = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
  assert.deepEqual(list(committed), list(out), 'dist/ holds other files than the build makes: run `npm run build` and commit dist/');
  for (const file of list(out)) {
    assert.ok(readFileSync(join(committed, file)).equals(readFileSync(join(out, file))), `dist/${file} is stale: run \`npm run build\` and commit dist/`);
  }
});
