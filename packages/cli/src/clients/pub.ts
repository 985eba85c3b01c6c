/**
 * mosquitto_pub: connect, publish one message (-m -f -s -n, --repeat) or one per stdin line
 * (-l), wait until every QoS>0 publish is acknowledged, DISCONNECT, exit.
 */
import { readFileSync, statSync } from 'node:fs';
import { toMqttJsProperties, reasonString, type MosquittoClient, type MqttJsProperties } from '@skeeter/client';
import { MsgMode, type ClientConfig } from './config.js';
import { isOutcome, startTool } from './start.js';
import { finish, type Outcome } from './outcome.js';
import { writeErr, writeOut } from './output.js';
import { connackRefusal, connectClient, connectOptions, createClient, errPrintf } from './session.js';
import { mosquittoStrerror } from '@skeeter/client';

const TOOL = 'mosquitto_pub';
const MAX_PAYLOAD = 268435455;
/** -l at QoS 0: lines handed to the socket but not yet written before stdin is paused. */
const QOS0_UNWRITTEN = 64;

async function usage(): Promise<string> {
  return (await import('./usage.js')).usageText(TOOL);
}

/** -f: the whole file is one message. */
function loadFile(cfg: ClientConfig, path: string): Buffer | undefined {
  let data: Buffer;
  try {
    const st = statSync(path);
    if (st.isDirectory() || st.size > MAX_PAYLOAD) {
      errPrintf(cfg, `Error: File must be less than ${MAX_PAYLOAD} bytes.\n\n`);
      return undefined;
    }
    data = readFileSync(path);
  } catch {
    errPrintf(cfg, `Error: Unable to open file "${path}".\n`);
    return undefined;
  }
  return data;
}

/** Reads stdin to its end. (Not readFileSync(0): on Node 20 that was seen to break the
 * resolution of pnpm-symlinked modules loaded afterwards.) */
function readStdin(): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.once('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.once('error', () => resolve(Buffer.concat(chunks)));
  });
}

/** -s: all of stdin is one message. */
async function loadStdin(cfg: ClientConfig): Promise<Buffer | undefined> {
  const data = await readStdin();
  if (data.length === 0) {
    errPrintf(cfg, 'Error: Zero length input.\n');
    return undefined;
  }
  return data;
}

export async function runPub(argv: readonly string[]): Promise<Outcome> {
  const cfg = await startTool(TOOL, argv);
  if (isOutcome(cfg)) return cfg;
  if (cfg.topic === undefined || cfg.pubMode === MsgMode.NONE) {
    writeErr('Error: Both topic and message must be supplied.\n');
    writeOut(await usage());
    return { kind: 'usage' };
  }

  let payload: Buffer = Buffer.alloc(0);
  if (cfg.pubMode === MsgMode.STDIN_FILE) {
    const data = await loadStdin(cfg);
    if (!data) {
      errPrintf(cfg, 'Error loading input from stdin.\n');
      return { kind: 'usage' };
    }
    payload = data;
  } else if (cfg.pubMode === MsgMode.FILE) {
    const data = loadFile(cfg, cfg.fileInput as string);
    if (!data) {
      errPrintf(cfg, `Error loading input file "${cfg.fileInput}".\n`);
      return { kind: 'usage' };
    }
    payload = data;
  } else if (cfg.pubMode === MsgMode.CMD) {
    payload = Buffer.from(cfg.message ?? '', 'utf8');
  }

  const setup = connectOptions(cfg);
  if (!setup.ok) return { kind: 'failed', rc: setup.rc };
  const client = createClient(cfg);
  return new Promise<Outcome>((resolve) => {
    void publishSession(cfg, client, setup.options, payload, resolve);
  });
}

async function publishSession(
  cfg: ClientConfig,
  client: MosquittoClient,
  options: Parameters<MosquittoClient['connect']>[0],
  payload: Buffer,
  resolve: (o: Outcome) => void,
): Promise<void> {
  const publishProps: MqttJsProperties | undefined = toMqttJsProperties(cfg.props.publish);
  const disconnectProps = toMqttJsProperties(cfg.props.disconnect);
  const haveTopicAlias = cfg.protocolVersion === 5 && publishProps?.topicAlias !== undefined;
  let firstPublish = true;
  let connackResult = 0;
  let publishCount = 0;
  let pending = 0;
  let sentAny = false;
  let stdinDone = false;
  let maximumQos = 2;
  let repeatTimer: NodeJS.Timeout | undefined;
  let stdin: NodeJS.ReadStream | undefined;
  /** -l: publishes the buffered lines the window allows (set by startLines). */
  let pumpLines = (): void => {};
  let pumpScheduled = false;

  const disconnect = (): void => {
    if (repeatTimer) clearTimeout(repeatTimer);
    client.disconnect(0, disconnectProps);
  };

  const myPublish = (data: Buffer): boolean => {
    const topic = haveTopicAlias && !firstPublish ? '' : (cfg.topic as string);
    firstPublish = false;
    if (topic === '' && !haveTopicAlias) {
      errPrintf(cfg, "Error: Invalid input. Does your topic contain '+' or '#'?\n");
      disconnect();
      return false;
    }
    if (cfg.qos > maximumQos) {
      errPrintf(cfg, 'Error: Message QoS not supported on broker, try a lower QoS.\n');
      disconnect();
      return false;
    }
    pending++;
    sentAny = true;
    client.publish(topic, data, cfg.qos, cfg.retain, publishProps);
    return true;
  };

  client.onConnect = (rc, _sp, props) => {
    connackResult = rc;
    if (rc !== 0) {
      connackRefusal(cfg, rc);
      return;
    }
    if (typeof props?.maximumQoS === 'number') maximumQos = props.maximumQoS;
    if (cfg.pubMode === MsgMode.STDIN_LINE) {
      startLines();
    } else {
      myPublish(cfg.pubMode === MsgMode.NULL ? Buffer.alloc(0) : payload);
    }
  };

  client.onPublish = (mid, rc, props) => {
    pending--;
    if (rc > 127) {
      errPrintf(cfg, `Warning: Publish ${mid} failed: ${reasonString(rc)}.\n`);
      if (typeof props?.reasonString === 'string') errPrintf(cfg, `${props.reasonString}\n`);
    }
    publishCount++;
    if (cfg.pubMode === MsgMode.STDIN_LINE) {
      // Acks read in one go free the window together; the next lines then go out together.
      if (!pumpScheduled) {
        pumpScheduled = true;
        setImmediate(() => {
          pumpScheduled = false;
          pumpLines();
        });
      }
      if (stdinDone && pending === 0) disconnect();
    } else if (publishCount < cfg.repeatCount) {
      const next = (): void => {
        repeatTimer = undefined;
        myPublish(cfg.pubMode === MsgMode.NULL ? Buffer.alloc(0) : payload);
      };
      if (cfg.repeatDelayUs > 0) repeatTimer = setTimeout(next, cfg.repeatDelayUs / 1000);
      else setImmediate(next);
    } else {
      disconnect();
    }
  };

  client.onDisconnect = (rc) => {
    if (repeatTimer) clearTimeout(repeatTimer);
    if (stdin) {
      stdin.pause();
      stdin.destroy();
    }
    if (connackResult !== 0) {
      // libmosquitto's loop then ends with CONN_REFUSED, or PROTOCOL for an MQTT 5 refusal
      // outside line mode, and mosquitto_pub reports that too.
      const loopRc = cfg.pubMode !== MsgMode.STDIN_LINE && cfg.protocolVersion === 5 ? 2 : 5;
      errPrintf(cfg, `Error: ${mosquittoStrerror(loopRc)}\n`);
      resolve({ kind: 'refused', code: connackResult });
    } else if (rc !== 0) {
      errPrintf(cfg, `Error: ${mosquittoStrerror(rc)}\n`);
      resolve({ kind: 'failed', rc });
    } else {
      resolve({ kind: 'ok' });
    }
  };

  /**
   * -l: one message per line; a line is everything before '\n' (a '\r' stays). Lines are
   * published while fewer than the window are unacknowledged (-M for QoS>0, as libmosquitto
   * holds back messages beyond its inflight maximum) or, for QoS 0, not yet written to the
   * socket; stdin is paused meanwhile, so a fast producer neither floods memory nor piles
   * up a 'drain' listener per message.
   */
  const startLines = (): void => {
    const input = process.stdin;
    stdin = input;
    const window = cfg.qos > 0 ? cfg.maxInflight : QOS0_UNWRITTEN;
    let buffered: Buffer = Buffer.alloc(0);
    let ended = false;
    let pumping = false;
    let stopped = false;
    pumpLines = (): void => {
      if (pumping || stopped) return;
      pumping = true;
      try {
        while (pending < window) {
          const nl = buffered.indexOf(0x0a);
          if (nl < 0) break;
          const line = buffered.subarray(0, nl);
          buffered = buffered.subarray(nl + 1);
          if (!myPublish(line)) {
            stopped = true;
            return;
          }
        }
      } finally {
        pumping = false;
      }
      if (buffered.includes(0x0a)) {
        input.pause();
      } else if (!ended) {
        input.resume();
      } else if (!stdinDone) {
        stdinDone = true;
        if (buffered.length > 0) {
          const last = buffered;
          buffered = Buffer.alloc(0);
          myPublish(last);
        }
        if (!sentAny || pending === 0) disconnect();
      }
    };
    input.on('data', (chunk: Buffer) => {
      buffered = buffered.length > 0 ? Buffer.concat([buffered, chunk]) : chunk;
      pumpLines();
    });
    input.on('end', () => {
      ended = true;
      pumpLines();
    });
    input.on('error', () => {
      stdinDone = true;
      if (pending === 0) disconnect();
    });
  };

  const rc = await connectClient(cfg, client, options);
  if (rc !== 0) resolve({ kind: 'failed', rc: 1 });
}

/** Entry point used by the bin. */
export async function main(argv: readonly string[]): Promise<void> {
  finish(await runPub(argv));
}
