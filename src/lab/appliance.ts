/**
 * Runs lab appliances: `redblack run` in a namespace, detached (they outlive `npm run lab
 * --keep`), each with its own status socket and log. The lab runs two: examples/lab-a.yaml in
 * rb-a and lab-b.yaml in rb-b.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { readStatus } from '../daemon/status-server.js';
import { packageRoot } from '../platform/package-root.js';
import { endProcesses, processAlive, sleep } from './command.js';
import type { LabAppliances } from './lab-appliances.js';
import type { LabTopology } from './topology.js';

export class LabApplianceError extends Error {
  override readonly name = 'LabApplianceError';
}

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Where a lab's appliance sockets and logs live. */
export function labRunDir(prefix: string): string {
  return path.join('/run/redblack-lab', prefix || 'default');
}

/** One running appliance process. */
export class LabAppliance {
  private constructor(readonly namespace: string, readonly pid: number, readonly socket: string, readonly log: string) {}

  /**
   * Starts `redblack run --config CONFIG [...runArgs]` in `namespace`; `name` names its socket and
   * log under labRunDir(prefix). Resolves once it answers on its status socket.
   */
  static async start(prefix: string, namespace: string, config: string, name: string, runArgs: readonly string[] = []): Promise<LabAppliance> {
    const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(cli)) throw new LabApplianceError(`${cli} is missing: run "npm run build" first`);
    const dir = labRunDir(prefix);
    mkdirSync(dir, { recursive: true });
    const socket = path.join(dir, `${name}.sock`);
    const log = path.join(dir, `${name}.log`);
    const fd = openSync(log, 'w');
    // REDBLACK_LAB_NODE_OPTIONS: extra Node.js flags for the appliances (e.g. --cpu-prof to profile).
    const nodeFlags = (process.env.REDBLACK_LAB_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, ...nodeFlags, cli, 'run', '--config', config, '--status-socket', socket, ...runArgs], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.unref();
    if (child.pid === undefined) throw new LabApplianceError(`could not start the appliance in ${namespace}`);
    const appliance = new LabAppliance(namespace, child.pid, socket, log);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        await readStatus(socket, 500);
        return appliance;
      } catch {
        if (!processAlive(appliance.pid)) throw new LabApplianceError(`the appliance in ${namespace} exited during start: see ${log}`);
        if (Date.now() > deadline) {
          await appliance.stop();
          throw new LabApplianceError(`the appliance in ${namespace} did not answer within ${READY_TIMEOUT_MS} ms: see ${log}`);
        }
        await sleep(100);
      }
    }
  }

  /** Its status JSON (SAs, counters, drops), or { error } when it does not answer. */
  status(): Promise<unknown> {
    return readStatus(this.socket).catch((e: Error) => ({ error: e.message }));
  }

  /** SIGTERM (the appliance zeroizes its SAs), then SIGKILL after STOP_TIMEOUT_MS. */
  stop(): Promise<void> {
    return endProcesses([this.pid], STOP_TIMEOUT_MS);
  }
}

/** Configuration files for the two appliances; default examples/lab-a.yaml and lab-b.yaml. */
export interface LabApplianceConfigs {
  readonly a?: string;
  readonly b?: string;
  /** Extra `redblack run` options of each (e.g. --crypto-thread on). */
  readonly runArgs?: { readonly a?: readonly string[]; readonly b?: readonly string[] };
}

/** Starts the appliances of rb-a and rb-b. */
export async function startLabAppliances(topology: LabTopology, configs?: LabApplianceConfigs): Promise<LabAppliances> {
  const examples = path.join(packageRoot(), 'examples');
  const a = await LabAppliance.start(topology.prefix, topology.namespaces.rbA, configs?.a ?? path.join(examples, 'lab-a.yaml'), 'a', configs?.runArgs?.a);
  let b: LabAppliance;
  try {
    b = await LabAppliance.start(topology.prefix, topology.namespaces.rbB, configs?.b ?? path.join(examples, 'lab-b.yaml'), 'b', configs?.runArgs?.b);
  } catch (e) {
    await a.stop();
    throw e;
  }
  const both = [a, b];
  return {
    processes: [
      { site: 'a', namespace: a.namespace, pid: a.pid },
      { site: 'b', namespace: b.namespace, pid: b.pid },
    ],
    async status() {
      const out: Record<string, unknown> = {};
      for (const p of both) out[p.namespace] = await p.status();
      return out;
    },
    async stop() {
      await Promise.all(both.map((p) => p.stop()));
    },
  };
}
