/**
 * mosquitto_rr: MQTT 5 request/response. Subscribe to the -e response topic, publish the
 * request with a response-topic property once the SUBACK is in, print the first response
 * (formatted like mosquitto_sub) and exit; -W bounds the wait.
 */
import { propertyByName, reasonString, toMqttJsProperties, type Message } from '@skeeter/client';
import { MsgMode, type ClientConfig } from './config.js';
import { isOutcome, startTool } from './start.js';
import { arrivalTime, printMessage } from './format.js';
import { finish, type Outcome } from './outcome.js';
import { writeErr, writeOut } from './output.js';
import { connectClient, connectOptions, createClient, errPrintf } from './session.js';
import { mosquittoStrerror } from '@skeeter/client';

const TOOL = 'mosquitto_rr';

export async function runRr(argv: readonly string[]): Promise<Outcome> {
  const cfg = await startTool(TOOL, argv);
  if (isOutcome(cfg)) return cfg;
  if (cfg.topic === undefined || cfg.pubMode === MsgMode.NONE || cfg.responseTopic === undefined) {
    writeErr(`Error: All of topic, message, and response topic must be supplied.\n\nUse '${TOOL} --help' to see usage.\n`);
    return { kind: 'usage' };
  }
  if (cfg.protocolVersion === 5) {
    if (cfg.props.publish.some((e) => e.property.name === 'response-topic')) {
      errPrintf(cfg, 'Error in PUBLISH properties: Duplicate response topic.\n');
      return { kind: 'usage' };
    }
    cfg.props.publish.push({ property: propertyByName('response-topic')!, value: Buffer.from(cfg.responseTopic, 'utf8') });
  }
  return requestSession(cfg);
}

function requestSession(cfg: ClientConfig): Promise<Outcome> {
  const setup = connectOptions(cfg, 1);
  if (!setup.ok) return Promise.resolve({ kind: 'failed', rc: setup.rc });
  const client = createClient(cfg);
  const publishProps = toMqttJsProperties(cfg.props.publish);
  const subscribeProps = toMqttJsProperties(cfg.props.subscribe);
  const disconnectProps = toMqttJsProperties(cfg.props.disconnect);
  const printOpts = { format: cfg.format, verbose: cfg.verbose, eol: cfg.eol, pretty: cfg.pretty };
  // 2.0 never reads -f / -s input: the request is sent empty (reference §11.12).
  const payload = cfg.pubMode === MsgMode.CMD ? Buffer.from(cfg.message ?? '', 'utf8') : Buffer.alloc(0);

  return new Promise<Outcome>((resolve) => {
    let connackResult = 0;
    let connackReceived = false;
    let timedOut = false;
    let answered = false;
    let timer: NodeJS.Timeout | undefined;

    const onSignal = (): void => {
      if (connackReceived) client.disconnect(0x04, disconnectProps);
      else process.exit(255);
    };
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const armTimeout = (): void => {
      if (cfg.timeout <= 0) return;
      timer = setTimeout(() => {
        timedOut = true;
        if (connackReceived) client.disconnect(0x04, disconnectProps);
        else client.close();
      }, cfg.timeout * 1000);
    };

    client.onConnect = (rc) => {
      connackReceived = true;
      connackResult = rc;
      if (rc !== 0) {
        if (rc === 0x84) {
          errPrintf(cfg, `Connection error: ${reasonString(rc)}. mosquitto_rr only supports connecting to an MQTT v5 broker\n`);
        } else {
          errPrintf(cfg, `Connection error: ${reasonString(rc)}\n`);
        }
        client.disconnect(0, disconnectProps);
        return;
      }
      client.subscribe([cfg.responseTopic as string], cfg.qos, {
        retainAsPublished: cfg.retainAsPublished,
        retainHandling: ((cfg.subOpts >> 4) & 0x03) as 0 | 1 | 2,
      }, subscribeProps);
    };

    client.onSubscribe = (_mid, granted) => {
      const g = granted[0] ?? 0x80;
      if (g < 128) {
        client.publish(cfg.topic as string, payload, cfg.qos, cfg.retain, publishProps);
      } else {
        errPrintf(cfg, `${reasonString(g)}\n`);
        client.disconnect(0, disconnectProps);
      }
    };

    client.onMessage = (msg: Message) => {
      if (answered) return;
      answered = true;
      const r = printMessage(msg, printOpts, arrivalTime());
      if (r.error) writeErr(r.error);
      writeOut(r.out);
      // mosquitto_rr 2.0 leaves its loop after the response without sending DISCONNECT.
      answered = true;
      client.close();
    };

    client.onDisconnect = (rc) => {
      cleanup();
      if (connackResult !== 0) return resolve({ kind: 'refused', code: connackResult });
      if (timedOut) {
        errPrintf(cfg, 'Timed out\n');
        return resolve({ kind: 'timeout' });
      }
      if (rc === 0 || answered) return resolve({ kind: 'ok' });
      errPrintf(cfg, `Error: ${mosquittoStrerror(rc)}\n`);
      resolve({ kind: 'failed', rc });
    };

    void connectClient(cfg, client, setup.options).then((rc) => {
      // -W: like alarm() in mosquitto_sub/rr, armed once the connection is open.
      if (rc === 0) armTimeout();
      if (rc !== 0) {
        cleanup();
        resolve({ kind: 'failed', rc: 1 });
      }
    });
  });
}

export async function main(argv: readonly string[]): Promise<void> {
  finish(await runRr(argv));
}
