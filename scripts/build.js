#!/usr/bin/env node
// Builds the action's bundles: `node scripts/build.js [OUT]` (default dist/). The entries are
// listed here only; `npm run build` and the dist freshness test both call this script, so the
// test checks exactly what the build makes.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
const bin = (name) => join(root, 'node_modules', '.bin', name);

// The action's main step, its post step, the go test -exec shim the runner writes a script for,
// and the kube-apiserver shim the wrapped envtest assets launch (each found beside the bundle at run time).
const entries = [
  { js: 'main.js', to: '.', license: true },
  { js: 'post.js', to: 'post' },
  { js: 'frameworks/go-exec-shim.js', to: 'go-exec-shim' },
  { js: 'envtest/kube-apiserver-shim.js', to: 'kube-apiserver-shim' },
];

function run(argv) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build failed: ${argv.join(' ')}`);
    process.exit(result.status ?? 1);
  }
}

// lib/ stays inside the repository: ncc reads package.json's "type": "module" from beside it.
const lib = join(root, 'lib');
try {
  rmSync(lib, { recursive: true, force: true });
  run([bin('tsc'), '-p', 'tsconfig.build.json', '--outDir', lib]);
  rmSync(out, { recursive: true, force: true });
  for (const entry of entries) {
    run([bin('ncc'), 'build', join(lib, entry.js), '-o', join(out, entry.to), '--minify', '--quiet', ...(entry.license ? ['--license', 'licenses.txt'] : [])]);
  }
} finally {
  rmSync(lib, { recursive: true, force: true });
}
