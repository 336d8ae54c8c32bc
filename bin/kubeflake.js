#!/usr/bin/env node
// The CLI runs from source on Node 24 (type stripping); the action runs the bundle in dist/.
// An older Node would fail on the first .ts import with a message about file extensions: say what to do instead.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`kubeflake: the CLI runs from its TypeScript source on Node 24 or later, and this is Node ${process.versions.node}. ` +
    'Run it through npm (npm run kubeflake -- run ...), which uses the project\'s own Node 24 (the node devDependency), or install Node 24.');
  process.exit(2);
}
await import('../src/cli.ts');
