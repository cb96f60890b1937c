/**
 * The daemon's status socket: a Unix stream socket that answers every connection with one line
 * of JSON (SAs, counters, drops, ports) and closes. `redblack status` and the lab read it.
 * Nothing secret is ever part of a status: SAs show SPIs and counters, never keys.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';

export const DEFAULT_STATUS_DIR = '/run/redblack';

/** Where the appliance called `name` answers by default. */
export function defaultStatusSocket(name: string): string {
  return join(DEFAULT_STATUS_DIR, `${name}.sock`);
}

export class StatusServer {
  private constructor(private readonly server: Server, readonly path: string) {}

  /** `status` may answer at once or later (a promise), for parts it has to ask another program for. */
  static async listen(path: string, status: () => unknown): Promise<StatusServer> {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const server = createServer((socket) => {
      socket.on('error', () => socket.destroy());
      answer(status).then((text) => socket.end(text + '\n'), () => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return new StatusServer(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

/** One status as JSON text; a status that throws or rejects is answered with its error. */
async function answer(status: () => unknown): Promise<string> {
  try {
    return JSON.stringify(await status());
  } catch (err) {
    return JSON.stringify({ error: `status failed: ${err instanceof Error ? err.message : String(err)}` });
  }
}

export class StatusUnavailableError extends Error {
  override readonly name = 'StatusUnavailableError';
}

/** Reads one status from a daemon's socket (bounded by `timeoutMs`). */
export function readStatus(path: string, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new StatusUnavailableError(`no answer on ${path} within ${timeoutMs} ms: is the daemon running?`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(new StatusUnavailableError(`cannot read status from ${path}: ${err.message} (is the daemon running?)`));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data));
      } catch {
        reject(new StatusUnavailableError(`status from ${path} is not JSON`));
      }
    });
  });
}
