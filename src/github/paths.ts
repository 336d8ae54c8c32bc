// Reports carry the paths the test tools wrote, often the runner's absolute checkout path.
// GitHub places an annotation on a pull request's file only by its repository-relative path,
// and a comment should not show the runner's disk layout: make them relative to the workspace.

import { isAbsolute, relative, sep } from 'node:path';
import type { Report } from '../model.ts';

/** The path relative to `workspace` with forward slashes, or unchanged when it lies outside. */
export function repositoryPath(file: string, workspace: string): string {
  if (!file || !isAbsolute(file)) return file;
  const rel = relative(workspace, file);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return file;
  return rel.split(sep).join('/');
}

/** A copy of the report whose test and failure locations are repository-relative. */
export function withRepositoryPaths(report: Report, workspace: string): Report {
  return {
    ...report,
    tests: report.tests.map((test) => ({
      ...test,
      file: repositoryPath(test.file, workspace),
      ...(test.failures
        ? { failures: test.failures.map((f) => (f.location ? { ...f, location: { ...f.location, file: repositoryPath(f.location.file, workspace) } } : f)) }
        : {}),
    })),
  };
}
