/**
 * The L7 plane: the ingress proxy (routing through the model's compiled routes), the pods'
 * built-in echo program, TLS by SNI from the model's Secrets, access log and metrics.
 */
export { RunningCluster, type ClusterOptions, type L7Plane, type PodConnection } from './cluster.js';
export { l7Plane } from './dataplane.js';
export { ProxyWorkers, WorkerPool, WorkerStartError, clusterWorker, serveAsWorker, type FromWorker, type PoolOptions, type ProxyWorkersOptions, type ToWorker, type WireNetwork, type WorkerChannel, type WorkerConfig, type WorkerProcess, type WorkerSpawner } from './workers.js';
export { startAdmin, type AdminEndpoint } from './admin.js';
export { IngressProxy, type ProxyOptions } from './proxy.js';
export { Snapshot, type BackendOverrides, type ControllerView, type PodNetwork, type UpstreamChoice } from './snapshot.js';
export { PodPrograms, podKey, runsEcho, wsFrame, readFrame, POD_HEADER, DELAY_HEADER, type EchoReply, type PodPortTable } from './echo.js';
export { normalizeTarget, type NormalizedTarget } from './normalize.js';
export { CertificateStore, makeDefaultCertificate, secretsOf, DEFAULT_CERT_SUBJECT, type PemPair } from './tls.js';
export { Metrics, renderMetrics, LATENCY_BUCKETS, type MetricsSnapshot } from './metrics.js';
export { accessLogWriter } from './access-log.js';
export { DEFAULT_LIMITS, type AccessRecord, type Http01Responder, type ListenerAddress, type Logger, type ProxyLimits, type TlsSecret } from './types.js';
