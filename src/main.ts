// Action face: action.yml inputs -> Settings -> pipeline -> job summary and outputs.

import * as core from '@actions/core';
import { join } from 'node:path';
import { parseSettings, splitCommand, type RawInputs } from './settings.ts';
import { hunt } from './pipeline.ts';
import { stopChildrenOnExit } from './exec.ts';
import { actionsPresenter } from './presenter.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderAnnotations } from './report/annotations.ts';
import { files } from './results.ts';
import { restoreControlPlane, saveControlPlane } from './control-plane-cache.ts';

const names = ['working-directory', 'runs', 'framework', 'cluster', 'kubeconfig', 'kind-name', 'kind-image', 'results', 'cleanup',
  'dry-run', 'remove-finalizers', 'finalizer-grace', 'protected-namespaces', 'ignore', 'run-timeout', 'seed', 'max-probes', 'report-glob',
  'kind-config', 'keep-cluster', 'cleanup-existing'] as const;

export async function run(): Promise<void> {
  try {
    const inputs: RawInputs = { command: splitCommand(core.getInput('command', { required: true })) };
    for (const name of names) inputs[name] = core.getInput(name);
    const failOn = core.getInput('fail-on') || 'findings';
    const settings = parseSettings(inputs);
    // The post step (src/post.ts) finds a kind cluster left behind through the results folder.
    core.saveState('results', settings.resultsDir);
    const binaries = await restoreControlPlane(settings);
    const report = await hunt(settings, actionsPresenter());
    await saveControlPlane(binaries);

    const findings = report.tests.filter((test) => test.verdict !== 'stable' && test.verdict !== 'skipped');
    core.setOutput('verdict', report.verdict);
    core.setOutput('findings', String(findings.length));
    core.setOutput('report', join(settings.resultsDir, files.report));
    core.setOutput('results', settings.resultsDir);
    for (const note of renderAnnotations(report)) {
      const properties = { title: note.title, file: note.file, startLine: note.line };
      if (note.level === 'failure') core.error(note.message, properties);
      else if (note.level === 'warning') core.warning(note.message, properties);
      else core.notice(note.message, properties);
    }
    await core.summary.addRaw(renderMarkdown(report, { maxLength: 1_000_000 })).write();

    if (report.verdict === 'error' && failOn !== 'never') core.setFailed(`kubeflake could not finish: ${(report.errors ?? []).join('; ')}`);
    else if (report.verdict === 'findings' && failOn === 'findings') core.setFailed(`kubeflake found ${findings.length} unstable test(s); see the job summary`);
  } catch (error) {
    core.setFailed((error as Error).message);
  }
}

stopChildrenOnExit();
await run();
