#!/usr/bin/env node
// Fails when a platform-neutral source file reaches for a platform: the core packages
// (crypto, protocol, api) must run unchanged in Node and in browsers. Platform code
// lives in files named *.node.ts (Node) or *.dom.ts (browser) and is exempt.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const CORE = ['crypto', 'protocol', 'api'];
const NODE_IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](node:[^'"]+|fs|path|crypto|os|net|http|https|child_process|buffer|stream)['"]/;
const NODE_GLOBALS = /\b(Buffer|process|__dirname|__filename)\s*[.(\[]/;
const DOM_GLOBALS = /\b(window|document|localStorage|indexedDB|navigator)\s*\./;

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const problems = [];
for (const pkg of CORE) {
  for (const file of walk(join(root, 'packages', pkg, 'src'), [])) {
    const base = file.split('/').pop();
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    if (!base.includes('.node.') && NODE_IMPORT.test(text)) problems.push(`${file}: imports a Node module`);
    if (!base.includes('.node.') && NODE_GLOBALS.test(text)) problems.push(`${file}: uses a Node global`);
    if (!base.includes('.dom.') && DOM_GLOBALS.test(text)) problems.push(`${file}: uses a DOM global`);
  }
}
if (problems.length > 0) {
  console.error('platform boundary violations:\n' + problems.join('\n'));
  process.exit(1);
}
console.log(`boundaries ok (${CORE.join(', ')})`);
