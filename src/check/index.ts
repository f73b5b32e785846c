/**
 * The differential suite: random clusters and probes asked of the simulator and a kernel plane,
 * compared with the agreement rule, the first disagreement minimized into a reproducer folder.
 */
export { generateCluster, OTHER_EXTERNAL_CLIENT, ROUTER_ADDRESS, type GeneratedCluster, type GenerateOptions, type Manifest } from './generate.js';
export { connectionOf, PROBE_KINDS, probesOf, type Probe, type ProbeKind, type ProbeOptions, type ProbeSpec, type SourceRef, type TargetRef } from './probes.js';
export { runDifferential, type DifferentialOptions, type DifferentialResult, type Disagreement } from './differential.js';
export { applyShape, judgeProbe, probeAll, shapeOf, type DifferentialLogger, type KernelPlane, type PlaneStarter, type Verdict } from './session.js';
export { replayReproducer, type Replayed } from './reproducer.js';
export { linuxStarter, lockCluster, DEFAULT_RUNTIME_DIR, type LinuxStarterOptions } from './linux.js';
export { GeneratorError, loadManifests, loadText, manifestsYaml, MANIFESTS_FILE, traceArgs, traceCommand, type Loaded } from './render.js';
export { createRandom, mixSeed, type Random } from './random.js';
