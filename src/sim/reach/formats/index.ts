/** Output formats of `kwire reach`, keyed by their `-o` name. */
import type { ReachFormatter } from './common.js';
import { csv } from './csv.js';
import { dot } from './dot.js';
import { json } from './json.js';
import { matrix } from './matrix.js';
import { md } from './md.js';
import { mermaid } from './mermaid.js';
import { txt } from './txt.js';

/** Every reach format by name. */
export const reachFormats = { txt, matrix, json, csv, md, dot, mermaid } satisfies Record<
  string,
  ReachFormatter
>;

/** A reach format name. */
export type ReachFormat = keyof typeof reachFormats;

/** Whether a string names a reach format. */
export function isReachFormat(name: string): name is ReachFormat {
  return Object.hasOwn(reachFormats, name);
}

export type { ReachFormatter } from './common.js';
export { connsText } from './common.js';
