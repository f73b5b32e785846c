/**
 * The access log: one JSON object per line, to a file (appended) or to a stream such as stderr.
 * Lines are buffered and written once per turn of the event loop (or every 64 KiB), so a busy
 * proxy makes one write for many requests.
 */
import { createWriteStream } from 'node:fs';
import type { AccessRecord } from './types.js';

const FLUSH_BYTES = 65_536;

/** A writer of access records and the function that flushes and closes it. */
export function accessLogWriter(target: string | NodeJS.WritableStream): { write: (r: AccessRecord) => void; close: () => Promise<void> } {
  const stream = typeof target === 'string' ? createWriteStream(target, { flags: 'a' }) : target;
  let pending = '';
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    scheduled = undefined;
    if (!pending) return;
    const text = pending;
    pending = '';
    stream.write(text);
  };
  return {
    write: (r) => {
      pending += `${JSON.stringify(r)}\n`;
      if (pending.length >= FLUSH_BYTES) flush();
      else scheduled ??= setImmediate(flush);
    },
    close: () => {
      if (scheduled) clearImmediate(scheduled);
      flush();
      return typeof target === 'string'
        ? new Promise((done) => {
            stream.end(() => {
              done();
            });
          })
        : Promise.resolve();
    },
  };
}
