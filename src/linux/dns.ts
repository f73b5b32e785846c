/**
 * kwire's cluster DNS server: a small DNS codec and server over UDP and TCP answering from the
 * records of dns-records.ts (no dependency beyond Node: the pod agent loads it).
 */
import type { Socket as DgramSocket } from 'node:dgram';
import type { Server } from 'node:net';

/** Record types kwire answers. */
export const RR = { A: 1, CNAME: 5, SOA: 6, AAAA: 28, SRV: 33 } as const;

import type { DnsRecords, SrvRecord } from '../model/dns-records.js';
export type { DnsRecords, NameRecords, SrvRecord } from '../model/dns-records.js';

/** A stub resolver's settings: a pod's or a node's resolv.conf. */
export interface StubResolver {
  readonly search: readonly string[];
  readonly ndots: number;
}

/** The names a stub resolver asks for `name`, in order (the search path before or after the name itself). */
export function queryNames(name: string, r: StubResolver): string[] {
  const bare = name.replace(/\.$/, '');
  if (name.endsWith('.')) return [bare];
  const searched = r.search.map((s) => `${bare}.${s}`);
  return bare.split('.').length - 1 >= r.ndots ? [bare, ...searched] : [...searched, bare];
}

/** A parsed DNS question. */
export interface DnsQuestion {
  readonly id: number;
  readonly flags: number;
  readonly name: string;
  readonly type: number;
  readonly qclass: number;
  /** Bytes of the question section, echoed in the answer. */
  readonly questionBytes: Buffer;
}

/** Parses the header and first question of a query; `undefined` when malformed. */
export function parseQuery(msg: Buffer): DnsQuestion | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    const len = msg[off];
    if (len === undefined || len > 63) return undefined;
    off++;
    if (len === 0) break;
    if (off + len > msg.length) return undefined;
    labels.push(msg.subarray(off, off + len).toString('latin1'));
    off += len;
  }
  if (off + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(off),
    qclass: msg.readUInt16BE(off + 2),
    questionBytes: msg.subarray(12, off + 4),
  };
}

/** Encodes a domain name (no compression). */
export function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((p) => p !== '');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

function rr(name: string, type: number, ttl: number, data: Buffer): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(1, 2);
  head.writeUInt32BE(ttl, 4);
  head.writeUInt16BE(data.length, 8);
  return Buffer.concat([encodeName(name), head, data]);
}

function aData(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function srvData(s: SrvRecord): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(s.priority, 0);
  b.writeUInt16BE(s.weight, 2);
  b.writeUInt16BE(s.port, 4);
  return Buffer.concat([b, encodeName(s.target)]);
}

const TTL = 5;

/** Answers a query from the records: NOERROR with answers, NODATA, or NXDOMAIN. */
export function answerQuery(records: DnsRecords, msg: Buffer): Buffer | undefined {
  const q = parseQuery(msg);
  if (!q) return undefined;
  const dot = q.name.indexOf('.');
  // Wildcards as recordsOf (model/dns-records) reads them; this file stays free of runtime imports.
  const found = records.names[q.name] ?? (dot > 0 ? records.names[`*${q.name.slice(dot)}`] : undefined);
  const answers: Buffer[] = [];
  let rcode = 0;
  if (!found) rcode = 3;
  else {
    if (found.cname !== undefined) answers.push(rr(q.name, RR.CNAME, TTL, encodeName(found.cname)));
    if (q.type === RR.A) for (const ip of found.a ?? []) answers.push(rr(q.name, RR.A, TTL, aData(ip)));
    if (q.type === RR.SRV) {
      for (const s of found.srv ?? []) answers.push(rr(q.name, RR.SRV, TTL, srvData(s)));
    }
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, q.questionBytes, ...answers]);
}

/** Builds a query (for tests and probes). */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

/** A decoded answer (for tests and probes): rcode and A/SRV data. */
export function decodeAnswer(msg: Buffer): { rcode: number; a: string[]; srv: { port: number; target: string }[] } {
  const rcode = msg.readUInt16BE(2) & 0xf;
  const count = msg.readUInt16BE(6);
  let off = 12;
  const skipName = (): void => {
    for (;;) {
      const len = msg[off] ?? 0;
      if (len >= 0xc0) {
        off += 2;
        return;
      }
      off += 1 + len;
      if (len === 0) return;
    }
  };
  const readName = (at: number): string => {
    const labels: string[] = [];
    let p = at;
    for (;;) {
      const len = msg[p] ?? 0;
      if (len === 0) break;
      labels.push(msg.subarray(p + 1, p + 1 + len).toString('latin1'));
      p += 1 + len;
    }
    return labels.join('.');
  };
  skipName();
  off += 4;
  const a: string[] = [];
  const srv: { port: number; target: string }[] = [];
  for (let i = 0; i < count; i++) {
    skipName();
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 8);
    const data = off + 10;
    if (type === RR.A) a.push([...msg.subarray(data, data + 4)].join('.'));
    if (type === RR.SRV) srv.push({ port: msg.readUInt16BE(data + 4), target: readName(data + 6) });
    off = data + len;
  }
  return { rcode, a, srv };
}

/** Serves DNS on a bound UDP socket, answering from `records()`. */
export function serveDnsUdp(socket: DgramSocket, records: () => DnsRecords): void {
  socket.on('message', (msg, rinfo) => {
    const answer = answerQuery(records(), msg);
    if (answer) socket.send(answer, rinfo.port, rinfo.address);
  });
}

/** Serves DNS over TCP (two-byte length prefix) on a listening server. */
export function serveDnsTcp(server: Server, records: () => DnsRecords): void {
  server.on('connection', (conn) => {
    let buffered = Buffer.alloc(0);
    conn.on('error', () => undefined);
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) break;
        const answer = answerQuery(records(), buffered.subarray(2, 2 + len));
        buffered = buffered.subarray(2 + len);
        if (answer) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(answer.length, 0);
          conn.write(Buffer.concat([prefix, answer]));
        }
      }
    });
  });
}
