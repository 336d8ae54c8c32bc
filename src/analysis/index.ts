// The analysis front door: pure functions from runs (and leaks) to verdicts, probe plans,
// failure kinds and reproduce commands. No I/O anywhere below.

export { analyze, reportVerdict, type AnalysisInput } from './verdicts.ts';
export { planProbes, type ProbePlanInput } from './probes.ts';
export { DEFAULT_HUNT_OPTIONS, huntContext, huntFor, judgeProbe, probeKey, type Hunt, type HuntOptions } from './hunt.ts';
export { DEFAULT_FALSE_ALARM_BOUND, candidateChance, flakeChance, orderChance } from './chance.ts';
export { gatherEvidence, type Evidence, type RunView } from './evidence.ts';
export {
  rankCleanerCandidates,
  rankPolluterCandidates,
  rankStateSetterCandidates,
  type CleanerCandidate,
  type OrderCandidate,
} from './order.ts';
export { leaksByCreator, linkFailureToLeaks, type FailureLink } from './leaks.ts';
export {
  classifyFailure,
  clusterFailures,
  extractObjectRefs,
  failureSignature,
  hintFor,
  type FailureText,
  type MentionedObject,
} from './taxonomy.ts';
