#!/usr/bin/env node
// The CLI runs from source on Node 24 (type stripping); the action runs the bundle in dist/.
import '../src/cli.ts';
