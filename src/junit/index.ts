// The front door of report ingestion: parse one report, load one run folder, or run `kubeflake parse`.
export { parseReport } from './parse.ts';
export { loadRun, mergeReports } from './run.ts';
export { parseCommand, type ParseFailure } from './cli.ts';
export { ReportError } from './report-error.ts';
export { defaultLimits, type ParseLimits, type ParseOptions } from './limits.ts';
export { isSuiteNodeName } from './ginkgo-names.ts';
