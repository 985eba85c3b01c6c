#!/usr/bin/env node
// Fails when a package depends on (or imports) a workspace package its layer may not use:
// codec, persistence and password-file are leaves; client and broker sit on the codec (the
// broker also on the two leaves); only cli may use everything. See docs/ARCHITECTURE.md.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const ALLOWED = {
  '@skeeter/codec': [],
  '@skeeter/persistence': [],
  '@skeeter/password-file': [],
  '@skeeter/client': ['@skeeter/codec'],
  '@skeeter/broker': ['@skeeter/codec', '@skeeter/persistence', '@skeeter/password-file'],
  '@skeeter/cli': ['@skeeter/codec', '@skeeter/client', '@skeeter/broker', '@skeeter/persistence', '@skeeter/password-file'],
};

function sources(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const problems = [];
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  const allowed = ALLOWED[pkg.name];
  if (!allowed) {
    problems.push(`${pkg.name}: not in the layer table of scripts/check-boundaries.mjs`);
    continue;
  }
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    if (dep.startsWith('@skeeter/') && !allowed.includes(dep)) problems.push(`${pkg.name} depends on ${dep}`);
  }
  for (const file of sources(join(root, 'packages', dir, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '(@skeeter\/[a-z-]+)[^']*'/g)) {
      if (!allowed.includes(m[1])) problems.push(`${file.slice(root.length)} imports ${m[1]}`);
    }
    // Leaves and the codec stay free of other packages' internals reached by relative paths.
    if (/from '\.\.\/\.\.\/\.\.\//.test(text)) problems.push(`${file.slice(root.length)} reaches outside its package`);
  }
}
if (problems.length > 0) {
  console.error(`Package boundary violations:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('Package boundaries: ok');
