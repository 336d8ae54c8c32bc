// Any other command (make test, a script): kubeflake cannot add flags, so the seed travels in
// KUBEFLAKE_SEED for the command to use, reports are found by a glob, and tests cannot be selected.

import type { StyleAdapter } from './adapter.ts';

export const envStyle: StyleAdapter = {
  style: 'env',
  focusable: false,
  seedInEnv: true,
  serves: ['generic'],
  select: (argv) => [...argv],
  addReports: (argv, places) => ({ argv: [...argv], reports: places.glob ? { kind: 'glob', pattern: places.glob } : { kind: 'none' }, notes: [] }),
};
