/**
 * Connection probes from inside namespaces: each probe has a client socket opened in its source
 * namespace (binder.ts); a TCP probe connects and asks, a UDP probe sends and waits for the reply.
 * Usage: node probe-agent.js PROBES.json → prints one JSON array of results.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { inheritedFds } from './binder.js';

/** One probe as the agent reads it. */
export interface AgentProbe {
  readonly protocol: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** What to send: `hostname`, `clientip`, or any text to echo. */
  readonly send: string;
}

/** The outcome of one probe. */
export interface ProbeOutcome {
  readonly connected: boolean;
  readonly reply?: string;
  readonly error?: string;
}

function probeTcp(fd: number, p: AgentProbe): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = new Socket({ fd });
    let data = '';
    let connected = false;
    const finish = (outcome: ProbeOutcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      finish(connected ? { connected, reply: data.trim() } : { connected: false, error: 'timeout' });
    }, p.timeoutMs);
    socket.on('connect', () => {
      connected = true;
      socket.write(`${p.send}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) finish({ connected: true, reply: data.trim() });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      finish({ connected: false, error: e.code ?? e.message });
    });
    socket.connect(p.port, p.host);
  });
}

function probeUdp(fd: number, p: AgentProbe): Promise<ProbeOutcome> {
  const binary = p.send.startsWith('b64:');
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const finish = (outcome: ProbeOutcome): void => {
      clearTimeout(timer);
      socket.close();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      finish({ connected: false, error: 'timeout' });
    }, p.timeoutMs);
    socket.on('message', (msg) => {
      finish({ connected: true, reply: binary ? `b64:${msg.toString('base64')}` : msg.toString('latin1').trim() });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      finish({ connected: false, error: e.code ?? e.message });
    });
    socket.bind({ fd }, () => {
      socket.send(binary ? Buffer.from(p.send.slice(4), 'base64') : p.send, p.port, p.host);
    });
  });
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: probe-agent PROBES.json');
  const probes = JSON.parse(readFileSync(file, 'utf8')) as AgentProbe[];
  const fds = inheritedFds(process.env);
  const results = await Promise.all(
    probes.map((p, i) => {
      const fd = fds[i];
      if (fd === undefined) return Promise.resolve({ connected: false, error: 'no descriptor' });
      return p.protocol === 'tcp' ? probeTcp(fd, p) : probeUdp(fd, p);
    }),
  );
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`probe-agent: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
