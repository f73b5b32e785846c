#!/usr/bin/env node
// Entry point: runs the compiled CLI (built by `npm ci` through the `prepare` script).
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Whatever a failed command may have left open (a listener, a timer) must not keep kwire alive.
setTimeout(() => process.exit(code), 2000).unref();
