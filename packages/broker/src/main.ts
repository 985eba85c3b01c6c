/**
 * `mosquitto` as a process: command line and config, log lines at start and stop, signals
 * (SIGINT/SIGTERM stop, SIGHUP reloads, SIGUSR1 saves, SIGUSR2 prints the subscription tree),
 * pid_file and -d. The bin calls runMosquitto and nothing else.
 */
import { spawn } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { Bridge } from './bridge/bridge.js';
import { installBrokerSecurity, reloadBrokerSecurity } from './auth/index.js';
import { Broker } from './broker.js';
import { loadBrokerConfig, reloadConfig, toBrokerSettings } from './config/index.js';
import { unsupportedOptionMessage, unsupportedOptions } from './config/unsupported.js';
import { ALL_LOG_TYPES, type BrokerConfig, type ConfigMessage } from './config/types.js';

import { Logger } from './log.js';
import { ListenerOpenError, reloadListenerCertificates } from './transport/tls.js';
import { PersistenceManager, PersistenceStartupError } from './persist/persistence-manager.js';
import { VERSION_STRING } from './version.js';

/** Messages printed before the logger exists go to stderr with Mosquitto's timestamp prefix. */
function printEarly(messages: readonly ConfigMessage[]): void {
  const now = Math.floor(Date.now() / 1000);
  for (const m of messages) process.stderr.write(`${now}: ${m.text}\n`);
}

/** Environment marker for the child of `-d`, so it does not fork again. */
const DAEMON_CHILD = 'SKEETER_DAEMON_CHILD';

export async function runMosquitto(argv: readonly string[]): Promise<void> {
  const startup = loadBrokerConfig(argv);
  if (!startup.ok) {
    if ('stdout' in startup) {
      if (startup.stdout) process.stdout.write(startup.stdout);
      if (startup.stderr) process.stderr.write(startup.stderr);
    }
    printEarly(startup.messages);
    process.exitCode = startup.exitCode;
    return;
  }
  const config = startup.config;
  const unsupported = unsupportedOptions(config);
  if (unsupported.length > 0) {
    printEarly(unsupported.map((u) => ({ level: 'error' as const, text: unsupportedOptionMessage(u) })));
    process.exitCode = 3;
    return;
  }
  if (config.daemon && process.env[DAEMON_CHILD] === undefined) {
    // Node cannot fork(); start a detached copy of ourselves instead and return at once.
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, [DAEMON_CHILD]: '1' },
    });
    child.unref();
    return;
  }

  // Messages from reading the config come before logging is set up: Mosquitto prints them to
  // stderr with the plain timestamp, whatever log_dest says.
  printEarly(config.messages);
  const settings = toBrokerSettings(config);
  const unsupportedDest = config.logDest.dlt ? 'dlt' : undefined;
  if (unsupportedDest) {
    printEarly([{ level: 'error', text: `Error: log_dest ${unsupportedDest} is not supported yet in skeeter; use stderr, stdout, file, syslog or topic.` }]);
    process.exitCode = 3;
    return;
  }
  const log = new Logger(settings.log);
  // Mosquitto restores the database before it logs that it is starting.
  const broker = new Broker(settings, log);
  let persistence: PersistenceManager | undefined;
  if (config.persistenceJournal && !config.persistence) log.warning('Warning: persistence_journal needs persistence true; the journal is off.');
  if (config.persistence && config.persistenceFilePath !== undefined) {
    persistence = new PersistenceManager(broker, {
      path: config.persistenceFilePath,
      autosaveInterval: config.autosaveInterval,
      autosaveOnChanges: config.autosaveOnChanges,
      journal: config.persistenceJournal,
      journalSyncMs: config.persistenceJournalSyncMs,
      onCorruption: config.persistenceOnCorruption,
    });
    try {
      await persistence.restore();
    } catch (e) {
      if (e instanceof PersistenceStartupError) {
        // A corrupt journal (docs/durable-journal.md): its lines, then exit 3.
        for (const line of e.lines) log.error(line);
        process.exitCode = e.exitCode;
        return;
      }
      log.error(e instanceof Error ? e.message : String(e));
      log.error("Error: Couldn't open database.");
      process.exitCode = 1;
      return;
    }
  }
  log.notice(`${VERSION_STRING} starting`);
  if (config.configFiles.length > 0) log.notice(`Config loaded from ${config.configFiles[config.configFiles.length - 1]}.`);
  else log.notice('Using default config.');
  if (config.localOnly) {
    log.notice('Starting in local only mode. Connections will only be possible from clients running on this machine.');
    log.notice('Create a configuration file which defines a listener to allow remote access.');
    log.notice('For more details see https://mosquitto.org/documentation/authentication-methods/');
  }
  // password_file and acl_file (mosquitto_security_init): read before the listeners open.
  const loadedSecurity = await installBrokerSecurity(broker, config, log);
  if (!loadedSecurity.ok) {
    process.exitCode = loadedSecurity.exitCode;
    return;
  }
  let security = loadedSecurity.security;
  if (settings.pidFile) {
    try {
      writeFileSync(settings.pidFile, `${process.pid}\n`);
    } catch {
      log.error(`Error: Unable to write pid file.`);
      process.exitCode = 1;
      return;
    }
  }
  try {
    await broker.start();
  } catch (e) {
    // TLS and psk_file errors carry Mosquitto's exit code (3 or 13); listen errors exit 1.
    process.exitCode = e instanceof ListenerOpenError ? e.exitCode : 1;
    return;
  }
  persistence?.start();
  const bridges = config.bridges.map((b) => new Bridge(broker, b));
  for (const b of bridges) void b.start();
  log.notice(`${VERSION_STRING} running`);

  let current: BrokerConfig = config;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.notice(`${VERSION_STRING} terminating`);
    for (const b of bridges) b.stop();
    await broker.stop();
    persistence?.stop();
    await persistence?.close();
    if (settings.pidFile) {
      try {
        unlinkSync(settings.pidFile);
      } catch {
        // Already gone: nothing to do.
      }
    }
    log.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGHUP', () => {
    // Reload the reloadable options (reference 2.4 "R"); listeners stay as they are.
    log.notice('Reloading config.');
    const r = reloadConfig(current);
    if (!r.ok) {
      for (const m of r.messages) log.write(m.level, m.text);
      return;
    }
    current = { ...r.config, verbose: config.verbose };
    if (config.verbose) current.logTypes = [...ALL_LOG_TYPES];
    const next = toBrokerSettings(current);
    // Listeners keep their sockets; their reloadable (security) options are updated in place.
    const live = broker.settings.listeners;
    for (let i = 0; i < live.length; i++) {
      const fresh = next.listeners[i];
      if (fresh) Object.assign(live[i]!, { ...fresh, port: live[i]!.port, host: live[i]!.host });
    }
    next.listeners = live;
    broker.settings = next;
    // TLS listeners re-read their certificates, keys, CA and CRL files for new handshakes;
    // connected clients keep their sessions (reference 2.6).
    for (const l of live) reloadListenerCertificates(l, log);
    // Re-read password and ACL files and disconnect clients that no longer pass.
    security = reloadBrokerSecurity(broker, current, log, security);
    log.apply(next.log);
  });
  process.on('SIGUSR1', () => {
    void persistence?.save(false);
  });
  process.on('SIGUSR2', () => {
    for (const s of broker.sessions.values()) {
      for (const sub of s.subscriptions.values()) log.notice(`${s.clientId} ${sub.qos} ${sub.filter}`);
    }
  });
}
