#!/usr/bin/env node
// The `pigeon` command. All logic lives in ../dist/src/main.js (built with `npm run build`).
import { run } from '../dist/src/main.js';

await run(process.argv.slice(2));
