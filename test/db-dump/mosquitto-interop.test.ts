/**
 * Interop with the real (Debian) Mosquitto, both ways:
 *  - a mosquitto.db written by OUR writer is loaded by Mosquitto, which delivers its retained
 *    messages and the queued messages of its persistent session to real clients;
 *  - a mosquitto.db written by Mosquitto (SIGTERM after real publishes) is read by OUR reader,
 *    rewritten byte for byte, and printed by our db_dump.
 * Skipped with a message when `mosquitto` / `mosquitto_pub` / `mosquitto_sub` are not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import {
  ClientMessageState,
  encodeDb,
  loadDbFile,
  readDbBuffer,
  stateToRecords,
  writeDbFile,
  type DbRecord,
  type DbState,
  type MsgStoreRecord,
} from '@skeeter/persistence';
import { run, withTempDir } from './helpers.js';

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const MISSING = ['mosquitto', 'mosquitto_pub', 'mosquitto_sub'].filter((c) => !have(c));
const skip = MISSING.length > 0 ? `Debian Mosquitto not installed (missing ${MISSING.join(', ')}): apt-get install -y mosquitto mosquitto-clients` : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface Broker {
  readonly child: ChildProcess;
  readonly port: number;
  readonly log: () => string;
}

async function startBroker(dir: string): Promise<Broker> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const logFile = join(dir, 'broker.log');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'persistence_file mosquitto.db',
      'autosave_interval 0',
      `log_dest file ${logFile}`,
      'log_type all',
      // Mosquitto started as root drops to user "mosquitto", who could not write our temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const log = (): string => {
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      // not created yet
    }
    return `${text}${stderr}`;
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}:\n${log()}`);
    if (await canConnect(port)) return { child, port, log };
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(child.pid!, 'SIGKILL');
  throw new Error(`mosquitto did not listen on ${port} within 10 s:\n${log()}`);
}

/** SIGTERM by PID (Mosquitto saves the database on the way out), then wait for the exit. */
async function stopBroker(b: Broker): Promise<void> {
  if (b.child.exitCode !== null || b.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => b.child.once('exit', () => resolve()));
  process.kill(b.child.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(b.child.pid!, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function client(args: string[], cmd: string): Promise<string> {
  const r = await run(args, cmd, 20_000);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout.toString('latin1');
}

const b = (s: string): Buffer => Buffer.from(s);
const message = (storeId: bigint, topic: string, payload: Buffer, qos: number, retain: number, extra: Partial<MsgStoreRecord> = {}): MsgStoreRecord => ({
  kind: 'msg_store', storeId, expiryTime: 0n, sourceMid: 0, sourcePort: 0, sourceId: b('skeeter-writer'), sourceUsername: null,
  topic: b(topic), qos, retain, payload, properties: null, ...extra,
});

test('Mosquitto loads a database written by our writer: retained messages and a queued session', { skip, timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const sess = b('skeeter-sess');
    const state: DbState = {
      lastDbId: 20n,
      shutdown: 1,
      messages: [
        message(14n, 'interop/q/two', b('queued two'), 1, 0),
        message(13n, 'interop/q/one', b('queued one'), 1, 0),
        message(12n, 'interop/retained/v5', b('with props'), 2, 1, {
          properties: [
            { identifier: 3, value: b('text/plain') },
            { identifier: 38, name: b('origin'), value: b('skeeter') },
          ],
        }),
        message(11n, 'interop/retained/binary', Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x0a]), 0, 1),
        message(10n, 'interop/retained/text', b('hello from skeeter'), 1, 1),
      ],
      sessions: [
        {
          client: { kind: 'client', clientId: sess, username: null, sessionExpiryTime: 0n, sessionExpiryInterval: 0xffffffff, lastMid: 2, listenerPort: 0 },
          messages: [
            { kind: 'client_msg', clientId: sess, storeId: 13n, mid: 1, qos: 1, state: ClientMessageState.QUEUED, retain: 0, dup: 0, direction: 1, properties: null },
            { kind: 'client_msg', clientId: sess, storeId: 14n, mid: 2, qos: 1, state: ClientMessageState.QUEUED, retain: 0, dup: 0, direction: 1, properties: null },
          ],
        },
      ],
      subscriptions: [{ kind: 'sub', clientId: sess, topic: b('interop/q/#'), qos: 1, options: 0, identifier: 0 }],
      retained: [10n, 11n, 12n],
    };
    await writeDbFile(join(dir, 'mosquitto.db'), stateToRecords(state));

    const broker = await startBroker(dir);
    try {
      const common = ['-h', '127.0.0.1', '-p', String(broker.port), '-W', '10'];
      const retained = await client([...common, '-q', '2', '-t', 'interop/retained/#', '-C', '3', '-F', '%r %q %t %x'], 'mosquitto_sub');
      assert.deepEqual(retained.trim().split('\n').sort(), [
        `1 0 interop/retained/binary 0001feff0a`,
        `1 1 interop/retained/text ${b('hello from skeeter').toString('hex')}`,
        `1 2 interop/retained/v5 ${b('with props').toString('hex')}`,
      ], broker.log());
      const v5 = await client([...common, '-V', '5', '-t', 'interop/retained/v5', '-C', '1', '-F', '%t %C %p'], 'mosquitto_sub');
      assert.equal(v5, 'interop/retained/v5 text/plain with props\n');
      // The persistent session comes back with its subscription and both queued messages, in order.
      const queued = await client([...common, '-i', 'skeeter-sess', '-c', '-q', '1', '-t', 'interop/q/#', '-C', '2', '-F', '%t %p'], 'mosquitto_sub');
      assert.equal(queued, 'interop/q/one queued one\ninterop/q/two queued two\n', broker.log());
    } finally {
      await stopBroker(broker);
    }
    // Mosquitto saved on exit: its file still holds our retained messages and the session.
    const after = await loadDbFile(join(dir, 'mosquitto.db'));
    const topics = new Map(after.state!.messages.map((m) => [m.storeId, m.topic?.toString()]));
    assert.deepEqual(after.state!.retained.map((id) => topics.get(id)).sort(), ['interop/retained/binary', 'interop/retained/text', 'interop/retained/v5']);
    assert.ok(after.state!.sessions.some((s) => s.client.clientId?.toString() === 'skeeter-sess'));
    assert.ok(after.state!.subscriptions.some((s) => s.topic?.toString() === 'interop/q/#'));
  });
});

test('our reader loads a database written by Mosquitto, rewrites it byte for byte, and db_dump prints it', { skip, timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const broker = await startBroker(dir);
    const binFile = join(dir, 'bin8.bin');
    writeFileSync(binFile, Buffer.from([0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, 0x0a]));
    try {
      const common = ['-h', '127.0.0.1', '-p', String(broker.port)];
      await client([...common, '-i', 'deb-sess', '-c', '-q', '1', '-t', 'deb/q/#', '-E'], 'mosquitto_sub');
      await client([...common, '-i', 'deb-pub0', '-q', '1', '-r', '-t', 'deb/retained/text', '-m', 'retained text'], 'mosquitto_pub');
      await client([...common, '-i', 'deb-pub1', '-q', '0', '-r', '-t', 'deb/retained/binary', '-f', binFile], 'mosquitto_pub');
      await client(
        [...common, '-V', '5', '-i', 'deb-pub2', '-q', '2', '-r', '-t', 'deb/retained/v5', '-m', 'v5 payload',
          '-D', 'publish', 'content-type', 'text/x-test', '-D', 'publish', 'user-property', 'k', 'v'],
        'mosquitto_pub',
      );
      await client([...common, '-i', 'deb-pub3', '-q', '1', '-t', 'deb/q/x', '-m', 'queued X'], 'mosquitto_pub');
    } finally {
      await stopBroker(broker);
    }
    const path = join(dir, 'mosquitto.db');
    const bytes = readFileSync(path);
    const { state, warnings, version } = await loadDbFile(path);
    assert.equal(version, 6);
    assert.deepEqual(warnings, []);
    assert.ok(state);
    assert.equal(state.shutdown, 1);
    const byId = new Map(state.messages.map((m) => [m.storeId, m]));
    const retained = state.retained.map((id) => byId.get(id)!).sort((x, y) => x.topic!.compare(y.topic!));
    assert.deepEqual(retained.map((m) => [m.topic?.toString(), m.qos, m.retain, m.payload.toString('hex')]), [
      ['deb/retained/binary', 0, 1, '0001027f80feff0a'],
      ['deb/retained/text', 1, 1, b('retained text').toString('hex')],
      ['deb/retained/v5', 2, 1, b('v5 payload').toString('hex')],
    ]);
    assert.equal(retained[0]!.sourceId?.toString(), 'deb-pub1');
    assert.deepEqual(retained[2]!.properties, [
      { identifier: 3, value: b('text/x-test') },
      { identifier: 38, name: b('k'), value: b('v') },
    ]);
    const session = state.sessions.find((s) => s.client.clientId?.toString() === 'deb-sess');
    assert.ok(session, 'persistent session saved');
    assert.equal(session.client.sessionExpiryInterval, 0xffffffff);
    assert.equal(session.messages.length, 1);
    const queued = session.messages[0]!;
    assert.equal(queued.state, ClientMessageState.QUEUED);
    assert.equal(queued.direction, 1);
    assert.equal(byId.get(queued.storeId)?.payload.toString(), 'queued X');
    assert.deepEqual(state.subscriptions.map((s) => [s.clientId?.toString(), s.topic?.toString(), s.qos]), [['deb-sess', 'deb/q/#', 1]]);

    // Mosquitto's writer is bit-stable: reading and writing gives back its exact file.
    const recs: DbRecord[] = [...readDbBuffer(bytes)].flatMap((e) => (e.event === 'chunk' ? [e.chunk.record] : []));
    assert.ok(encodeDb(recs).equals(bytes));
    assert.ok(encodeDb(stateToRecords(state)).equals(bytes));

    const dump = await run([path]);
    assert.equal(dump.status, 0);
    assert.equal(dump.stderr.toString(), '');
    const text = dump.stdout.toString('latin1');
    assert.match(text, /\tTopic: deb\/retained\/text\n(?:.*\n){4}\tPayload: retained text\n/);
    assert.match(text, /\t\tContent type: text\/x-test\n\t\tUser property: k , v\n/);
    assert.match(text, /DB_CHUNK_CLIENT:\n\tLength: \d+\n\tClient ID: deb-sess\n\tListener port: \d+\n/);
  });
});
