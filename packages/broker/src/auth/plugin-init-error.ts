/**
 * Thrown by a built-in plugin's init to fail as a C plugin returning `rc` does: Mosquitto's
 * "Error: Plugin returned <rc> when initialising." and exit status `rc`.
 */
export class PluginInitError extends Error {
  readonly rc: number;
  constructor(rc: number) {
    super(`Plugin returned ${rc} when initialising.`);
    this.rc = rc;
  }
}
