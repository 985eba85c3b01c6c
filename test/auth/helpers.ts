/** Shared bits of the auth tests: password lines both brokers accept, temp files, waits. */
import { pbkdf2Sync, randomBytes } from 'node:crypto';

/** A `$7$` line as Debian's 2.0.11 mosquitto_passwd writes it (101 iterations, 12-byte salt). */
export function passwordLine(username: string, password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 101, 64, 'sha512');
  return `${username}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Waits (at most `ms`, polling every 50 ms) until `read()` contains `text`. */
export async function waitForText(read: () => string, text: string, ms = 5000): Promise<boolean> {
  for (let waited = 0; waited <= ms; waited += 50) {
    if (read().includes(text)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
