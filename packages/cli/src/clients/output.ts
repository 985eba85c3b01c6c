/**
 * Writing to stdout and stderr. Message output is raw bytes, never decorated. Error lines get
 * colour only when stderr is a terminal and NO_COLOR is unset; chalk is loaded only then.
 */
import { writeSync } from 'node:fs';

/** Writes all of a buffer to a file descriptor synchronously (pipes may accept partial writes). */
function writeAll(fd: number, data: Buffer | string): void {
  let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
  }
}

export function writeOut(data: Buffer | string): boolean {
  try {
    writeAll(1, data);
    return true;
  } catch {
    return false;
  }
}

let colour: ((s: string) => string) | undefined | null = null;

async function loadColour(): Promise<void> {
  if (colour !== null) return;
  colour = undefined;
  if (process.stderr.isTTY && process.env.NO_COLOR === undefined) {
    try {
      const chalk = (await import('chalk')).default;
      colour = (s: string) => (s.startsWith('Error') || s.startsWith('Warning') ? chalk.red(s) : s);
    } catch {
      colour = undefined;
    }
  }
}

/** Prepares stderr colouring (call once before errors may be written). */
export async function prepareStderr(): Promise<void> {
  await loadColour();
}

/** Writes to stderr; a Buffer is written as it is (bytes from the network, never coloured). */
export function writeErr(text: string | Buffer): void {
  if (text.length === 0) return;
  const out = typeof text !== 'string' ? text : colour ? text.split(/(?<=\n)/).map((l) => (colour as (s: string) => string)(l)).join('') : text;
  try {
    writeAll(2, out);
  } catch {
    // stderr gone: nothing else to tell.
  }
}
