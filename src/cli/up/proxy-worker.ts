/**
 * Entry of a proxy worker process (forked by `ProxyWorkers` through `node:cluster`). Signals are
 * the primary's to handle: a worker stops when the primary tells it to, or when the primary is gone.
 * States arrive as data and are compiled here, since compiled matchers do not cross processes.
 */
import { compileNetwork } from '../../controllers/index.js';
import { serveAsWorker, type WorkerChannel } from '../../proxy/index.js';

const send = process.send?.bind(process);
if (!send) throw new Error('proxy-worker.js runs as a node:cluster worker of kwire up');
const channel: WorkerChannel = { send, on: (event, fn) => process.on(event, fn) };
const logger = { info: (m: string) => process.stderr.write(`kwire: ${m}\n`), warn: (m: string) => process.stderr.write(`warning: ${m}\n`) };
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => process.exit(0));
await serveAsWorker(channel, logger, process.stderr, (state) => compileNetwork(state));
process.disconnect();
