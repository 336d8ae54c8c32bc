#!/usr/bin/env node
// Runs before `npm test` and `npm run demo`: installs the locked npm packages when they are
// missing or stale, so the README's two commands work on a fresh clone. Plain JS: it may run on
// the machine's own Node before node@24 (a devDependency) is installed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.kubeflake-lock-sha256');
const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
if (have !== want || !existsSync(join(root, 'node_modules', '.bin', 'node'))) {
  console.log('installing npm packages from package-lock.json (npm ci)');
  execSync('npm ci --no-audit --no-fund --loglevel=error', { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, want + '\n');
}
