/** The Trace contract of DESIGN.md lives in the model (`src/model/dataplane.ts`), shared by every plane. */
export type { Hop, Trace, TraceDestination, TraceRef, TraceVerdict } from '../../model/dataplane.js';
