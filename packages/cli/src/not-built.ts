/**
 * Placeholder for a tool whose issue has not landed yet: one line on stderr, exit status 1,
 * so a script that calls it fails loudly instead of doing nothing.
 */
export function notBuiltYet(tool: string): void {
  process.stderr.write(`Error: ${tool} is not built yet in skeeter.\n`);
  process.exitCode = 1;
}
