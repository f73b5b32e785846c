/** `kwire reach`: who can reach whom, on which protocols and ports, and output formats for it. */
export { computeReach } from './compute.js';
export { externalAtoms, externalId, type ExternalAtom } from './externals.js';
export {
  connsText,
  isReachFormat,
  reachFormats,
  type ReachFormat,
  type ReachFormatter,
} from './formats/index.js';
export type {
  DirectionExplain,
  Granularity,
  PairExplain,
  ReachConnection,
  ReachDenied,
  Reachability,
  ReachOptions,
  ReachPeer,
  RuleExplain,
} from './types.js';
