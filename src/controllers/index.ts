/**
 * The controllers as one reconcile: objects in, the compiled NetworkState out. The CLI and the
 * process entry points call this; the planes only read the NetworkState it makes.
 */
export { buildNetworkState, compileNetwork, type BuildInput, type BuildOptions, type CompileNetworkOptions } from './reconcile.js';
