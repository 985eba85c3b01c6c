/**
 * mosquitto_ctrl's password prompts (get_password() of apps/mosquitto_passwd, which it links):
 * prompts on stdout, answers read from stdin without echo, errors on stderr. One stdin reader
 * serves every prompt of a run (a `createClient` prompt and then the connection's
 * `Password for <user>: `), as C's stdin buffer does.
 */
import { StdinLines, getPassword, type GetPasswordResult } from '../passwd/prompt.js';
import { writeErr, writeOut } from '../../clients/output.js';

/** Ctrl-C typed at a prompt on a terminal: the run ends as if interrupted. */
export class Interrupted extends Error {}

export class Prompts {
  #lines: StdinLines | undefined;

  /**
   * get_password(prompt, verifyPrompt, quiet, buf, bufSize): `bufSize` is the C buffer the
   * answer is read into (fgets reads at most bufSize - 1 bytes).
   */
  async ask(prompt: string, verifyPrompt: string | undefined, quiet: boolean, bufSize: number): Promise<Exclude<GetPasswordResult, { rc: 'interrupt' }>> {
    this.#lines ??= new StdinLines(process.stdin);
    const r = await getPassword(this.#lines, { promptOut: { write: writeOut }, stderr: { write: writeErr } }, prompt, verifyPrompt, quiet, bufSize - 1);
    if (r.rc === 'interrupt') throw new Interrupted('interrupted');
    return r;
  }
}
