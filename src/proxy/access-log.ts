/**
 * The access log: one JSON object per line, to a file (appended) or to a stream such as stderr.
 */
import { createWriteStream } from 'node:fs';
import type { AccessRecord } from './types.js';

/** A writer of access records and the function that flushes and closes it. */
export function accessLogWriter(target: string | NodeJS.WritableStream): { write: (r: AccessRecord) => void; close: () => Promise<void> } {
  const stream = typeof target === 'string' ? createWriteStream(target, { flags: 'a' }) : target;
  return {
    write: (r) => {
      stream.write(`${JSON.stringify(r)}\n`);
    },
    close: () =>
      typeof target === 'string'
        ? new Promise((done) => {
            stream.end(() => {
              done();
            });
          })
        : Promise.resolve(),
  };
}
