import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The repository root, wherever the checkout is. */
export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtures = join(projectRoot, 'test', 'fixtures');
