/**
 * mosquitto_ctrl: `mosquitto_ctrl [connection options] <module> <command> [arguments]`
 * (apps/mosquitto_ctrl/mosquitto_ctrl.c). The one module is `dynsec`; Mosquitto would also
 * try to load `mosquitto_ctrl_<module>.so`, which a Node program cannot, so any other module is
 * "not supported".
 *
 * Exit statuses are Mosquitto's: 1 for the usage text, 10 for an unknown module, 13 for an
 * unknown command, 3 for bad command arguments ("Error: Invalid arguments provided."), the
 * set-up or connect error number, and 0 otherwise, including every answer from the broker
 * (errors too) and no answer at all.
 */
import { MosqErr } from '@skeeter/client';
import { prepareStderr, writeErr, writeOut } from '../../clients/output.js';
import { DYNSEC_REQUEST_TOPIC, DYNSEC_RESPONSE_TOPIC, dynsecMain } from './dynsec.js';
import { parseCtrlOptions } from './options.js';
import { printDynsecResponse } from './print.js';
import { Interrupted, Prompts } from './prompt.js';
import { ctrlStrerror, requestResponse } from './request.js';
import { ctrlUsage } from './usage.js';

/** Runs mosquitto_ctrl with argv (without node and script); resolves to the exit status. */
export async function runCtrl(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  await prepareStderr();
  if (argv.length === 0) {
    writeOut(ctrlUsage());
    return 1;
  }
  // Mosquitto ignores how the option parse ended (parseCtrlOptions prints its errors).
  const { cfg, rest } = parseCtrlOptions(argv, env);
  if (rest.length < 2) {
    writeOut(ctrlUsage());
    return 1;
  }
  const module = rest[0] as string;
  if (module.toLowerCase() !== 'dynsec') {
    writeErr(`Error: Module '${module}' not supported.\n`);
    return MosqErr.NOT_SUPPORTED;
  }
  const prompts = new Prompts();
  try {
    const outcome = await dynsecMain(rest.slice(1), prompts);
    if (outcome.rc < 0) return 0;
    if ('payload' in outcome) {
      return await requestResponse(
        cfg,
        { requestTopic: DYNSEC_REQUEST_TOPIC, responseTopic: DYNSEC_RESPONSE_TOPIC, payload: outcome.payload, onPayload: printDynsecResponse },
        prompts,
      );
    }
    // MOSQ_ERR_UNKNOWN: the message is already out.
    if (outcome.rc !== MosqErr.UNKNOWN) writeErr(`Error: ${ctrlStrerror(outcome.rc)}\n`);
    return outcome.rc;
  } catch (err) {
    // Ctrl-C at a prompt: ended as the signal would end it.
    if (err instanceof Interrupted) return 130;
    throw err;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = await runCtrl(argv);
}
