#!/usr/bin/env node
// Entry point of the `kafu` command; the CLI lives in src/cli (compiled to dist/ by `npm install`).
import '../dist/src/cli/main.js';
