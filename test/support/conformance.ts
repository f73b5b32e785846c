/**
 * The conformance data (cases and expectations) the suites read: `conformance/` at the root of the
 * repository. Every test reaches it through `conformancePath`, so a missing folder fails with what
 * to do instead of ENOENT.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository's `conformance/` folder. */
export const CONFORMANCE_ROOT = join(import.meta.dirname, '..', '..', 'conformance');

/**
 * The path of a file or folder under `conformance/` (`conformancePath('course', 'expected.json')`).
 * Throws, naming the first missing part and how to restore it, when it does not exist.
 */
export function conformancePath(...parts: readonly string[]): string {
  let path = CONFORMANCE_ROOT;
  for (const part of ['', ...parts]) {
    path = join(path, part);
    if (!existsSync(path)) {
      const name = relative(join(CONFORMANCE_ROOT, '..'), path);
      throw new Error(`${name} is missing: it is part of the repository (git checkout -- conformance)`);
    }
  }
  return path;
}
