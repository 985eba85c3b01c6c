/**
 * The one place where a tool's outcome becomes its exit status, as Mosquitto's clients do it:
 * 1 for usage/setup errors and failed connects, the CONNACK code when the broker refuses,
 * 27 (MOSQ_ERR_TIMEOUT) for -W, 255 for a signal before CONNACK, otherwise the libmosquitto
 * error number the network loop ended with.
 */
export type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'usage' }
  | { readonly kind: 'refused'; readonly code: number }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'signal' }
  | { readonly kind: 'failed'; readonly rc: number };

export function exitStatus(outcome: Outcome): number {
  switch (outcome.kind) {
    case 'ok':
      return 0;
    case 'usage':
      return 1;
    case 'refused':
      return outcome.code & 0xff;
    case 'timeout':
      return 27;
    case 'signal':
      return 255;
    case 'failed':
      return outcome.rc & 0xff;
  }
}

/** Sets the exit status without exiting, so piped stdout is flushed first. */
export function finish(outcome: Outcome): void {
  process.exitCode = exitStatus(outcome);
}
