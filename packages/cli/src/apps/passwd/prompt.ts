/**
 * The interactive password prompt: `Password: ` then `Reenter password: `, each answered by one
 * line, with a newline printed after each answer (the user's Enter is not echoed).
 *
 * Like Mosquitto, the answer is read from stdin, so `printf 'pw\npw\n' | mosquitto_passwd -c f u`
 * keeps working; a trailing `\r`/`\n` is stripped and a line is at most 65499 bytes (the rest
 * goes to the next read, as with Mosquitto's fgets()). When stdin is a terminal it is put in raw
 * mode for the answer so nothing is echoed. Mosquitto only clears ECHO and ICANON, which makes
 * Backspace part of the password; we treat Backspace/Delete as erase and Ctrl-U as kill-line,
 * Ctrl-D on an empty line as end of input, and Ctrl-C as an interrupt (exit status 130, where
 * Mosquitto's SIGINT handler exits 0).
 */
import type { Readable } from 'node:stream';

/** Mosquitto reads each answer with fgets() into a 65500-byte buffer. */
export const MAX_PASSWORD_LINE = 65499;

export interface PromptInput extends Readable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

export interface PromptIo {
  stdin: PromptInput;
  /** Where the prompts go: stdout, or stderr when stdout carries the result (`-c -`). */
  promptOut: TextOut;
  stderr: TextOut;
}

export type PromptResult = { ok: true; password: Buffer } | { ok: false; exitCode: number };

type LineResult = { kind: 'line'; bytes: Buffer } | { kind: 'eof' } | { kind: 'interrupt' };

/** Reads lines from stdin on demand, leaving stdin paused between reads. */
export class StdinLines {
  readonly #stdin: PromptInput;
  readonly #raw: boolean;
  #pending: Buffer = Buffer.alloc(0);
  #ended = false;

  constructor(stdin: PromptInput) {
    this.#stdin = stdin;
    this.#raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  }

  get isTerminal(): boolean {
    return this.#raw;
  }

  setQuiet(quiet: boolean): void {
    if (this.#raw) this.#stdin.setRawMode?.(quiet);
  }

  /** One answer: at most `max` bytes (the rest stays for the next read, as with fgets()). */
  async readLine(max: number = MAX_PASSWORD_LINE): Promise<LineResult> {
    for (;;) {
      const line = this.#raw ? this.#takeTerminalLine(max) : this.#takePipeLine(max);
      if (line !== undefined) return line;
      if (this.#ended) {
        if (this.#pending.length === 0) return { kind: 'eof' };
        const bytes = this.#pending;
        this.#pending = Buffer.alloc(0);
        return { kind: 'line', bytes };
      }
      await this.#more();
    }
  }

  /** A line from a pipe or file: up to `\n`, or `max` bytes. */
  #takePipeLine(max: number): LineResult | undefined {
    const nl = this.#pending.indexOf(0x0a);
    if (nl !== -1 && nl < max) {
      const bytes = this.#pending.subarray(0, nl + 1);
      this.#pending = this.#pending.subarray(nl + 1);
      return { kind: 'line', bytes };
    }
    if (this.#pending.length >= max) {
      const bytes = this.#pending.subarray(0, max);
      this.#pending = this.#pending.subarray(max);
      return { kind: 'line', bytes };
    }
    return undefined;
  }

  /** A line typed on a terminal in raw mode, with a little line editing. */
  #takeTerminalLine(max: number): LineResult | undefined {
    const line: number[] = [];
    for (let i = 0; i < this.#pending.length; i++) {
      const byte = this.#pending[i] ?? 0;
      if (byte === 0x0d || byte === 0x0a) {
        this.#pending = this.#pending.subarray(i + 1);
        return { kind: 'line', bytes: Buffer.from(line) };
      }
      if (byte === 0x03) {
        this.#pending = Buffer.alloc(0);
        return { kind: 'interrupt' };
      }
      if (byte === 0x04) {
        if (line.length === 0) {
          this.#pending = this.#pending.subarray(i + 1);
          return { kind: 'eof' };
        }
      } else if (byte === 0x7f || byte === 0x08) {
        // Erase one UTF-8 character: its continuation bytes, then its lead byte.
        while (line.length > 0 && ((line[line.length - 1] ?? 0) & 0xc0) === 0x80) line.pop();
        line.pop();
      } else if (byte === 0x15) {
        line.length = 0;
      } else if (line.length < max) {
        line.push(byte);
      }
    }
    return undefined;
  }

  #more(): Promise<void> {
    return new Promise((resolve) => {
      const stdin = this.#stdin;
      const done = (): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.off('error', onEnd);
        stdin.pause();
        resolve();
      };
      const onData = (chunk: Buffer | string): void => {
        this.#pending = Buffer.concat([this.#pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
        done();
      };
      const onEnd = (): void => {
        this.#ended = true;
        done();
      };
      if (stdin.readableEnded || stdin.destroyed) {
        onEnd();
        return;
      }
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.on('error', onEnd);
      stdin.resume();
    });
  }
}

function stripLineEnd(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return bytes.subarray(0, end);
}

/** Where prompts and errors go: anything with a `write` (a stream, or a synchronous writer). */
export interface TextOut {
  write(text: string): unknown;
}

/** get_password()'s outcomes: 0 and the answer, 1 for an empty answer, 2 when the two differ. */
export type GetPasswordResult =
  | { readonly rc: 0; readonly password: Buffer }
  | { readonly rc: 1 | 2 }
  /** Ctrl-C on a terminal (raw mode sees it as a byte, not a signal). */
  | { readonly rc: 'interrupt' };

/**
 * Mosquitto's get_password(prompt, verify_prompt, quiet, ...): the prompt, one line read
 * without echo, a newline; then the same for `verifyPrompt` when given. An empty answer is rc 1
 * ("Error: Empty password." unless quiet), two different answers rc 2 ("Error: Passwords do
 * not match." unless quiet). `maxLine` is what Mosquitto's fgets() reads at most for one
 * answer (its buffer size less one): longer input is split and the rest answers the next read.
 * `lines` is shared by every prompt of one run, as C's stdin buffer is.
 */
export async function getPassword(
  lines: StdinLines,
  out: { promptOut: TextOut; stderr: TextOut },
  prompt: string,
  verifyPrompt: string | undefined,
  quiet: boolean,
  maxLine: number = MAX_PASSWORD_LINE,
): Promise<GetPasswordResult> {
  const restore = (): void => lines.setQuiet(false);
  // A signal while the terminal is in raw mode must not leave it without echo.
  const onSignal = (signal: NodeJS.Signals): void => {
    restore();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  if (lines.isTerminal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    const answers: Buffer[] = [];
    for (const text of verifyPrompt === undefined ? [prompt] : [prompt, verifyPrompt]) {
      // Quiet before the prompt appears, so an answer typed right after it is never echoed.
      lines.setQuiet(true);
      out.promptOut.write(text);
      const line = await lines.readLine(maxLine);
      restore();
      if (line.kind === 'interrupt') {
        out.promptOut.write('\n');
        return { rc: 'interrupt' };
      }
      const password = line.kind === 'line' ? stripLineEnd(line.bytes) : Buffer.alloc(0);
      if (password.length === 0) {
        if (!quiet) out.stderr.write('Error: Empty password.\n');
        return { rc: 1 };
      }
      out.promptOut.write('\n');
      answers.push(password);
    }
    const [first, second] = answers;
    if (first === undefined) return { rc: 1 };
    if (second !== undefined && !first.equals(second)) {
      if (!quiet) out.stderr.write('Error: Passwords do not match.\n');
      return { rc: 2 };
    }
    return { rc: 0, password: first };
  } finally {
    restore();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Ask twice; exit status 1 for an empty answer, 2 when they differ, as Mosquitto does. */
export async function promptPassword(io: PromptIo): Promise<PromptResult> {
  const r = await getPassword(new StdinLines(io.stdin), io, 'Password: ', 'Reenter password: ', false);
  if (r.rc === 0) return { ok: true, password: r.password };
  return { ok: false, exitCode: r.rc === 'interrupt' ? 130 : r.rc };
}
