#!/usr/bin/env node
import { main } from './cli/main.js';

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`countersign-callback: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
