#!/usr/bin/env node
// The command's entry point, kept outside dist/ on purpose: npm links a package's bins at
// install time, before the root `prepare` script has built dist/, and skips a bin whose file
// does not exist yet — a fresh `npm ci` would then leave no command to run.
import '../dist/bin.js';
