/**
 * TLS-PSK listeners (psk_hint + psk_file) with Debian's mosquitto_pub/sub --psk/--psk-identity:
 * good and bad keys, unknown identities, and the psk_file errors at startup, each compared with
 * the Debian broker.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, hasDebianMosquitto, startBroker } from '../helpers/broker-process.js';
import { DEBIAN_TOOLS, hasDebianTools, runTool, ToolProcess } from '../interop/tools.js';
import { eventually, logLines, runBrokerToExit } from './helpers.js';

const skip = !hasDebianTools() ? 'Debian mosquitto clients not installed' : false;
const oracleSkip = skip || (!hasDebianMosquitto() ? 'Debian mosquitto not installed' : false);
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'skeeter-psk-'));
  // Comments, lines without a colon and empty keys are skipped; odd-length keys get a leading 0.
  writeFileSync(join(dir, 'psk.txt'), '# keys\n\nsensor-1:deadbeef0123\nodd:abc\nnocolon\nempty:\n');
  writeFileSync(join(dir, 'bad.txt'), 'good:00ff\nbad:xyz\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

for (const oracle of [false, true]) {
  const name = oracle ? 'Debian mosquitto' : 'skeeter';
  test(`${name}: PSK clients with the right key get through, wrong keys and identities are refused`, { skip: oracle ? oracleSkip : skip }, async () => {
    const pskPort = await freePort();
    const broker = await startBroker({
      oracle,
      verbose: true,
      config: [`listener ${pskPort} 127.0.0.1`, 'psk_hint skeeter-hint', `psk_file ${join(dir, 'psk.txt')}`],
    });
    const psk = (key: string, id: string): string[] => ['-h', '127.0.0.1', '-p', String(pskPort), '--psk', key, '--psk-identity', id];
    try {
      await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
      const sub = new ToolProcess(DEBIAN_TOOLS.sub, ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'p/#', '-v', '-C', '2']);
      try {
        await eventually(() => broker.stderr().includes('Sending SUBACK'), 5000, 'SUBACK');
        const good = await runTool(DEBIAN_TOOLS.pub, [...psk('deadbeef0123', 'sensor-1'), '-t', 'p/good', '-m', 'one']);
        assert.equal(good.code, 0, good.stderr);
        const odd = await runTool(DEBIAN_TOOLS.pub, [...psk('0abc', 'odd'), '-t', 'p/odd', '-m', 'two']);
        assert.equal(odd.code, 0, odd.stderr);
        const wrongKey = await runTool(DEBIAN_TOOLS.pub, [...psk('deadbeef0124', 'sensor-1'), '-t', 'p/bad', '-m', 'no']);
        assert.notEqual(wrongKey.code, 0);
        const unknown = await runTool(DEBIAN_TOOLS.pub, [...psk('deadbeef0123', 'nobody'), '-t', 'p/bad', '-m', 'no']);
        assert.notEqual(unknown.code, 0);
        const r = await sub.done(5000);
        assert.equal(r.stdout, 'p/good one\np/odd two\n');
        // Both refusals are logged once the TLS errors appear (in either of Debian's forms below).
        await eventually(() => (broker.stderr().match(/binder does not verify|no suitable signature algorithm/g) ?? []).length >= 2, 10_000, 'two refusals')
          .catch((e: Error) => {
            throw new Error(`${e.message}; the broker logged:\n${broker.stderr()}`);
          });
      } finally {
        sub.kill();
      }
    } finally {
      await broker.stop();
    }
    // Mosquitto 2.0.11 logs a handshake failure in one of two ways, depending on whether the
    // ClientHello is already there when it accepts the socket (SSL_accept in the accept path:
    // "Client connection from <ip> failed: <error>.") or arrives later (the OpenSSL error line, then
    // the disconnect). The first form is normalised to the second, which is the one skeeter prints.
    const refusals = logLines(broker.stderr()).flatMap((l) => {
      const early = /^Client connection from [^ ]+ failed: (error:.*)\.$/.exec(l);
      if (early) return [`OpenSSL Error[0]: ${early[1]}`, 'Client <unknown> disconnected: Protocol error.'];
      return l.startsWith('OpenSSL Error') || l.startsWith('Client <unknown> disconnected') ? [l] : [];
    });
    assert.deepEqual(refusals, [
      'OpenSSL Error[0]: error:0A0000FD:SSL routines::binder does not verify',
      'Client <unknown> disconnected: Protocol error.',
      'OpenSSL Error[0]: error:0A000076:SSL routines::no suitable signature algorithm',
      'Client <unknown> disconnected: Protocol error.',
    ]);
  });

  test(`${name}: psk_file errors stop the broker before any listener opens`, async (t) => {
    if (oracle && !hasDebianMosquitto()) return t.skip('Debian mosquitto not installed');
    const port = await freePort();
    const bad = await runBrokerToExit(oracle, [`listener ${port} 127.0.0.1`, 'psk_hint h', `psk_file ${join(dir, 'bad.txt')}`]);
    assert.equal(bad.code, 3, bad.stderr);
    const badLines = logLines(bad.stderr);
    assert.deepEqual(badLines.slice(badLines.findIndex((l) => l.startsWith('Config loaded'))+ 1), [
      'Error: psk for identity "bad" contains non-hexadecimal characters.',
      `Error opening psk file "${join(dir, 'bad.txt')}".`,
    ]);
    const missing = await runBrokerToExit(oracle, [`listener ${port} 127.0.0.1`, 'psk_hint h', `psk_file ${join(dir, 'nope.txt')}`]);
    assert.equal(missing.code, 13, missing.stderr);
    const missingLines = logLines(missing.stderr);
    assert.deepEqual(missingLines.slice(missingLines.findIndex((l) => l.startsWith('Config loaded')) + 1), [
      `Error: Unable to open pwfile "${join(dir, 'nope.txt')}".`,
      `Error opening psk file "${join(dir, 'nope.txt')}".`,
    ]);
  });
}

for (const oracle of [false, true]) {
  test(`${oracle ? 'Debian mosquitto' : 'skeeter'}: SIGHUP re-reads the psk_file`, { skip: oracle ? oracleSkip : skip }, async () => {
    const file = join(dir, oracle ? 'reload-oracle.txt' : 'reload.txt');
    writeFileSync(file, 'dev:0011\n');
    const pskPort = await freePort();
    const broker = await startBroker({ oracle, config: [`listener ${pskPort} 127.0.0.1`, 'psk_hint h', `psk_file ${file}`] });
    const pub = (key: string) => runTool(DEBIAN_TOOLS.pub, ['-h', '127.0.0.1', '-p', String(pskPort), '--psk', key, '--psk-identity', 'dev', '-t', 'r', '-m', 'x']);
    try {
      await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
      assert.equal((await pub('0011')).code, 0);
      writeFileSync(file, 'dev:2233\n');
      process.kill(broker.pid, 'SIGHUP');
      await eventually(() => broker.stderr().includes('Reloading config.'), 5000, 'the reload');
      let code: number | null = 0;
      for (let i = 0; i < 20 && code === 0; i++) {
        code = (await pub('0011')).code;
        if (code === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.notEqual(code, 0, 'the old key is refused after the reload');
      assert.equal((await pub('2233')).code, 0, 'the new key works');
    } finally {
      await broker.stop();
    }
  });
}
