/**
 * The differential suite: random clusters and probes asked of the simulator and a kernel plane,
 * compared with the agreement rule, the first disagreement minimized into a reproducer.
 */
export { generateCluster, OTHER_EXTERNAL_CLIENT, ROUTER_ADDRESS, type GeneratedCluster, type GenerateOptions, type Manifest } from './generate.js';
export { connectionOf, PROBE_KINDS, probesOf, type Probe, type ProbeKind, type ProbeOptions, type ProbeSpec, type SourceRef, type TargetRef } from './probes.js';
export { GeneratorError, runDifferential, type DifferentialLogger, type DifferentialOptions, type DifferentialResult, type Disagreement, type KernelPlane, type PlaneStarter } from './differential.js';
export { linuxStarter, lockCluster, DEFAULT_RUNTIME_DIR, type ClusterLock, type LinuxStarterOptions } from './linux.js';
export { loadManifests, manifestsYaml, MANIFESTS_FILE, traceArgs, traceCommand, type Loaded } from './render.js';
export { createRandom, mixSeed, type Random } from './random.js';
