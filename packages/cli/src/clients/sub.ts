/**
 * mosquitto_sub: subscribe to every -t filter in one SUBSCRIBE, unsubscribe -U, print messages
 * (-v, -N, -F, %j/%J), and stop on -C count, -E, --retained-only, -W timeout or a signal.
 */
import {
  mosquittoStrerror,
  toMqttJsProperties,
  topicMatchesFilter,
  type Message,
} from '@skeeter/client';
import type { ClientConfig } from './config.js';
import { isOutcome, startTool } from './start.js';
import { arrivalTime, printMessage } from './format.js';
import { finish, type Outcome } from './outcome.js';
import { writeErr, writeOut } from './output.js';
import { connackRefusal, connectClient, connectOptions, createClient, errPrintf } from './session.js';

const TOOL = 'mosquitto_sub';

export async function runSub(argv: readonly string[]): Promise<Outcome> {
  const cfg = await startTool(TOOL, argv);
  if (isOutcome(cfg)) return cfg;
  if (cfg.noRetain && cfg.retainedOnly) {
    writeErr("\nError: Combining '-R' and '--retained-only' makes no sense.\n");
    return { kind: 'usage' };
  }
  return subscribeSession(cfg);
}

function subscribeSession(cfg: ClientConfig): Promise<Outcome> {
  const setup = connectOptions(cfg, cfg.msgCount > 0 && cfg.msgCount < 20 ? cfg.msgCount : undefined);
  if (!setup.ok) return Promise.resolve({ kind: 'failed', rc: setup.rc });
  const client = createClient(cfg);
  const subscribeProps = toMqttJsProperties(cfg.props.subscribe);
  const unsubscribeProps = toMqttJsProperties(cfg.props.unsubscribe);
  const disconnectProps = toMqttJsProperties(cfg.props.disconnect);
  const printOpts = { format: cfg.format, verbose: cfg.verbose, eol: cfg.eol, pretty: cfg.pretty };

  return new Promise<Outcome>((resolve) => {
    let connackResult = 0;
    let connackReceived = false;
    let processMessages = true;
    let msgCount = 0;
    let timedOut = false;
    let countReached = false;
    let timer: NodeJS.Timeout | undefined;

    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };

    // SIGINT/SIGTERM: after CONNACK a DISCONNECT with reason 0x04 (publish the will); before,
    // exit(-1) at once.
    const onSignal = (): void => {
      if (connackReceived) {
        processMessages = false;
        client.disconnect(0x04, disconnectProps);
      } else {
        cleanup();
        process.exit(255);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);


    const armTimeout = (): void => {
      if (cfg.timeout <= 0) return;
      timer = setTimeout(() => {
        timedOut = true;
        // Not connected yet: there is no DISCONNECT to send.
        if (connackReceived) client.disconnect(0x04, disconnectProps);
        else client.close();
      }, cfg.timeout * 1000);
    };

    client.onConnect = (rc) => {
      connackReceived = true;
      connackResult = rc;
      if (rc !== 0) {
        connackRefusal(cfg, rc);
        client.disconnect(0, disconnectProps);
        return;
      }
      client.subscribe(cfg.topics, cfg.qos, {
        retainAsPublished: cfg.retainAsPublished,
        retainHandling: ((cfg.subOpts >> 4) & 0x03) as 0 | 1 | 2,
      }, subscribeProps);
      for (const t of cfg.unsubTopics) client.unsubscribe([t], unsubscribeProps);
    };

    client.onSubscribe = (mid, granted) => {
      if (cfg.debug && !cfg.quiet) writeOut(`Subscribed (mid: ${mid}): ${granted.join(', ')}\n`);
      if (granted.length > 0 && granted.every((g) => g >= 128)) {
        errPrintf(cfg, 'All subscription requests were denied.\n');
        client.disconnect(0, disconnectProps);
        return;
      }
      if (cfg.exitAfterSub) client.disconnect(0, disconnectProps);
    };

    client.onMessage = (msg: Message) => {
      if (!processMessages) return;
      if (cfg.retainedOnly && !msg.retain) {
        processMessages = false;
        client.disconnect(0, disconnectProps);
        return;
      }
      if (msg.retain && cfg.noRetain) return;
      for (const f of cfg.filterOuts) if (topicMatchesFilter(f, msg.topic)) return;
      if (cfg.removeRetained && msg.retain) client.publish(msg.topic, Buffer.alloc(0), 1, true);
      // --random-filter: printed with chance stored/10000 (reference §11.7).
      if (cfg.randomFilter >= 10000 || Math.floor(Math.random() * 2147483648) % 10000 < cfg.randomFilter) {
        const t = arrivalTime();
        const r = printMessage(msg, printOpts, t);
        if (r.error) writeErr(r.error);
        if (!writeOut(r.out)) {
          processMessages = false;
          client.disconnect(0, disconnectProps);
          return;
        }
      }
      if (cfg.msgCount > 0) {
        msgCount++;
        if (msgCount >= cfg.msgCount) {
          processMessages = false;
          countReached = true;
          client.disconnect(0, disconnectProps);
        }
      }
    };

    client.onDisconnect = (rc) => {
      cleanup();
      if (connackResult !== 0) return resolve({ kind: 'refused', code: connackResult });
      if (timedOut) {
        errPrintf(cfg, 'Timed out\n');
        return resolve({ kind: 'timeout' });
      }
      if (countReached || rc === 0) return resolve({ kind: 'ok' });
      errPrintf(cfg, `Error: ${mosquittoStrerror(rc)}\n`);
      resolve({ kind: 'failed', rc });
    };

    void connectClient(cfg, client, setup.options).then((rc) => {
      // -W: like alarm() in mosquitto_sub/rr, armed once the connection is open.
      if (rc === 0) armTimeout();
      if (rc !== 0) {
        cleanup();
        // A failed connect exits 1, as mosquitto_sub does.
        resolve({ kind: 'failed', rc: 1 });
      }
    });
  });
}

export async function main(argv: readonly string[]): Promise<void> {
  finish(await runSub(argv));
}
