// Summarises V8 .cpuprofile files (from node --cpu-prof): self time per function, merged over
// every file in a directory, so each benchmark row gets "what bounds the broker here".
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Self time in ms per function over all .cpuprofile files in `dir`, heaviest first. */
export function summariseProfiles(dir) {
  const self = new Map();
  let total = 0;
  let files = 0;
  let names;
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return { files: 0, total: 0, idle: 0, top: [] };
  }
  for (const f of names) {
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    files++;
    const byId = new Map();
    for (const node of profile.nodes) {
      const cf = node.callFrame;
      const where = cf.url ? ` ${basename(cf.url)}:${cf.lineNumber + 1}` : '';
      byId.set(node.id, `${cf.functionName || '(anonymous)'}${where}`);
    }
    const { samples, timeDeltas } = profile;
    for (let i = 0; i < samples.length; i++) {
      // timeDeltas[i] is the time before sample i; attribute the following interval to sample i.
      const dt = (timeDeltas[i + 1] ?? 0) / 1000;
      const name = byId.get(samples[i]) ?? '?';
      self.set(name, (self.get(name) ?? 0) + dt);
      total += dt;
    }
  }
  const idle = self.get('(idle)') ?? 0;
  const top = [...self.entries()]
    .filter(([name]) => name !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => ({ name, ms }));
  return { files, total, idle, top };
}

export function formatProfile(summary, limit = 12) {
  if (summary.files === 0) return '  (no profile written)';
  const busy = summary.total - summary.idle;
  const lines = [
    `  ${summary.files} profile(s), ${(summary.total / 1000).toFixed(1)} s sampled, idle ${((100 * summary.idle) / summary.total).toFixed(0)}%; self time as % of busy time:`,
  ];
  for (const { name, ms } of summary.top.slice(0, limit)) {
    lines.push(`  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${name}`);
  }
  return lines.join('\n');
}

// `node profile.mjs <dir>` prints the summary of one directory.
if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node profile.mjs <dir-with-.cpuprofile-files> [top-N]');
    process.exit(2);
  }
  console.log(formatProfile(summariseProfiles(dir), Number(process.argv[3] ?? 20)));
}
