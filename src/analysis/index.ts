// The analysis front door: pure functions from runs (and leaks) to verdicts, probe plans,
// failure kinds and reproduce commands. No I/O anywhere below.

export { analyze, analyzeHazards, recordProof, reportVerdict, type AnalysisInput } from './verdicts.ts';
export { huntHazards, SHORT_WINDOW_MS, type HazardHunt } from './hazards.ts';
export { planProbes, type ProbePlanInput } from './probes.ts';
export {
  DEFAULT_HUNT_OPTIONS,
  huntContext,
  huntFor,
  huntOptions,
  judgeProbe,
  probeKey,
  replayHunts,
  type Hunt,
  type HuntOptions,
  type HuntOutcome,
  type Suspect,
  type Tally,
} from './hunt.ts';
export { DEFAULT_FALSE_ALARM_BOUND, candidateChance, flakeChance, orderChance, triesFor } from './chance.ts';
export { gatherEvidence, type Evidence, type RunView } from './evidence.ts';
export {
  rankCleanerCandidates,
  rankPolluterCandidates,
  rankStateSetterCandidates,
  type CleanerCandidate,
  type OrderCandidate,
} from './order.ts';
export { leaksByCreator, linkFailureToLeaks } from './leaks.ts';
export {
  classifyFailure,
  clusterFailures,
  extractObjectRefs,
  failureSignature,
  hintFor,
  type FailureText,
  type MentionedObject,
} from './taxonomy.ts';
