/** The NetworkState as data: what crosses a process boundary (compiled matchers are closures). */
import type { NetworkState, ReconciledState } from './types.js';

/** A state without its compiled routes and policies, as it travels between processes. */
export function plainState(state: ReconciledState | NetworkState): ReconciledState {
  if (!('routing' in state)) return state;
  const plain: { -readonly [K in keyof NetworkState]?: NetworkState[K] } = { ...state };
  delete plain.routing;
  delete plain.policies;
  return plain as ReconciledState;
}
