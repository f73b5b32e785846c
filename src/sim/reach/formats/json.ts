/** The `Reachability` document as JSON (DESIGN.md's contract). */
import type { ReachFormatter } from './common.js';

/** The json format. */
export const json: ReachFormatter = (reach) => `${JSON.stringify(reach, null, 2)}\n`;
