/**
 * The broker's log, in Mosquitto's format: "<unix seconds>: <message>" (or a strftime timestamp,
 * or none), one line per event, filtered by log_type and sent to every log_dest. Callers guard
 * expensive lines with `enabled(type)` so the hot path builds no strings that nobody reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { LogSettings, LogType } from './settings.js';

/** Topic suffixes for `log_dest topic` ($SYS/broker/log/<X>); debug lines are never published. */
const TOPIC_SUFFIX: Partial<Record<LogType, string>> = {
  error: 'E',
  warning: 'W',
  notice: 'N',
  information: 'I',
  subscribe: 'M/subscribe',
  unsubscribe: 'M/unsubscribe',
  websockets: 'WS',
};

export type LogPublisher = (topic: string, line: string) => void;

/** Syslog severities per log type, as Mosquitto maps them (LOG_ERR ... LOG_DEBUG). */
const SEVERITY: Record<LogType, number> = {
  error: 3,
  warning: 4,
  notice: 5,
  information: 6,
  subscribe: 6,
  unsubscribe: 6,
  websockets: 7,
  internal: 7,
  debug: 7,
};

/**
 * log_dest syslog. Node has no syslog(3) and no unix datagram sockets, so lines go through one
 * long-lived util-linux `logger` process (in every Debian system) reading "<PRI>line" from its
 * stdin, with the ident "mosquitto". SKEETER_SYSLOG_SOCKET points it at another socket (tests).
 */
class SyslogSink {
  private child: ChildProcess | undefined;
  private failed = false;

  write(type: LogType, facility: number | undefined, message: string): void {
    if (this.failed) return;
    if (!this.child) {
      const socket = process.env['SKEETER_SYSLOG_SOCKET'];
      const args = ['--prio-prefix', '-t', 'mosquitto', ...(socket ? ['-u', socket] : [])];
      const child = spawn('logger', args, { stdio: ['pipe', 'ignore', 'ignore'] });
      child.on('error', () => {
        this.failed = true;
      });
      child.stdin!.on('error', () => undefined);
      child.unref();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      this.child = child;
    }
    // LOG_DAEMON is facility 3; log_facility N means LOG_LOCALN, facility 16 + N.
    const pri = (facility === undefined ? 3 : 16 + facility) * 8 + SEVERITY[type];
    this.child.stdin!.write(`<${pri}>${message}\n`);
  }

  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
  }
}

export class Logger {
  private settings: LogSettings;
  private fileFd: number | undefined;
  private filePath: string | undefined;
  /** Set by the broker once it can publish (log_dest topic). */
  publisher: LogPublisher | undefined;
  private readonly mask = new Set<LogType>();
  private syslog: SyslogSink | undefined;
  /** `enabled('debug')` as a plain field: read on every delivery. */
  debugEnabled = false;

  constructor(settings: LogSettings) {
    this.settings = settings;
    this.apply(settings);
  }

  /** Replaces the settings (SIGHUP reload). */
  apply(settings: LogSettings): void {
    this.settings = settings;
    this.mask.clear();
    for (const t of settings.types) this.mask.add(t);
    this.debugEnabled = this.mask.has('debug');
    const file = settings.dests.find((d) => d.kind === 'file');
    const path = file && file.kind === 'file' ? file.path : undefined;
    if (path !== this.filePath) {
      if (this.fileFd !== undefined) closeSync(this.fileFd);
      this.fileFd = undefined;
      this.filePath = path;
      if (path !== undefined) {
        try {
          this.fileFd = openSync(path, 'a');
        } catch (e) {
          process.stderr.write(`Error: Unable to open log file ${path} for writing.\n`);
          throw e;
        }
      }
    }
  }

  enabled(type: LogType): boolean {
    return this.mask.has(type);
  }

  write(type: LogType, message: string): void {
    if (!this.mask.has(type)) return;
    const line = this.prefix() + message;
    for (const dest of this.settings.dests) {
      switch (dest.kind) {
        case 'stderr':
          writeAll(2, line + '\n');
          break;
        case 'stdout':
          writeAll(1, line + '\n');
          break;
        case 'file':
          if (this.fileFd !== undefined) writeAll(this.fileFd, line + '\n');
          break;
        case 'syslog':
          // syslog adds its own timestamp: the message goes without ours.
          (this.syslog ??= new SyslogSink()).write(type, this.settings.facility, message);
          break;
        case 'topic': {
          const suffix = TOPIC_SUFFIX[type];
          if (suffix && this.publisher) this.publisher(`$SYS/broker/log/${suffix}`, line);
          break;
        }
        default:
          break;
      }
    }
  }

  debug(message: string): void {
    this.write('debug', message);
  }
  info(message: string): void {
    this.write('information', message);
  }
  notice(message: string): void {
    this.write('notice', message);
  }
  warning(message: string): void {
    this.write('warning', message);
  }
  error(message: string): void {
    this.write('error', message);
  }

  close(): void {
    this.syslog?.close();
    if (this.fileFd !== undefined) closeSync(this.fileFd);
    this.fileFd = undefined;
    this.filePath = undefined;
  }

  private prefix(): string {
    if (!this.settings.timestamp) return '';
    const now = new Date();
    if (this.settings.timestampFormat === undefined) return `${Math.floor(now.getTime() / 1000)}: `;
    return strftime(this.settings.timestampFormat, now) + ': ';
  }
}

/** Synchronous so that lines written just before an exit are not lost, as with C stdio. */
function writeAll(fd: number, s: string): void {
  try {
    writeSync(fd, s);
  } catch {
    // A closed stderr or a full disk must not take the broker down.
  }
}

const pad = (n: number, w = 2, c = '0'): string => String(n).padStart(w, c);
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The strftime conversions log_timestamp_format users write, in local time as C's localtime. */
export function strftime(format: string, d: Date): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%' || i === format.length - 1) {
      out += c;
      continue;
    }
    const f = format[++i];
    switch (f) {
      case 'Y': out += d.getFullYear(); break;
      case 'y': out += pad(d.getFullYear() % 100); break;
      case 'm': out += pad(d.getMonth() + 1); break;
      case 'd': out += pad(d.getDate()); break;
      case 'e': out += pad(d.getDate(), 2, ' '); break;
      case 'H': out += pad(d.getHours()); break;
      case 'I': out += pad(((d.getHours() + 11) % 12) + 1); break;
      case 'M': out += pad(d.getMinutes()); break;
      case 'S': out += pad(d.getSeconds()); break;
      case 'p': out += d.getHours() < 12 ? 'AM' : 'PM'; break;
      case 'j': {
        const start = new Date(d.getFullYear(), 0, 1);
        out += pad(Math.floor((d.getTime() - start.getTime()) / 86_400_000) + 1, 3);
        break;
      }
      case 'a': out += DAYS[d.getDay()]; break;
      case 'b': case 'h': out += MONTHS[d.getMonth()]; break;
      case 's': out += Math.floor(d.getTime() / 1000); break;
      case 'F': out += `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; break;
      case 'T': out += `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; break;
      case 'z': {
        const off = -d.getTimezoneOffset();
        const a = Math.abs(off);
        out += `${off >= 0 ? '+' : '-'}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
        break;
      }
      case '%': out += '%'; break;
      default: out += '%' + f;
    }
  }
  return out;
}

