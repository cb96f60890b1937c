/**
 * Runs the two lab appliances: `redblack run` with examples/lab-a.yaml in rb-a and lab-b.yaml
 * in rb-b, detached (they outlive `npm run lab --keep`), each with its own status socket and log.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { readStatus } from '../daemon/status-server.js';
import { packageRoot } from '../platform/package-root.js';
import { sleep } from './command.js';
import type { LabApplianceProcess, LabAppliances } from './lab-appliances.js';
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Configuration files for the two appliances; default examples/lab-a.yaml and lab-b.yaml. */
export interface LabApplianceConfigs {
  readonly a: string;
  readonly b: string;
}

export async function startLabAppliances(topology: LabTopology, configs?: LabApplianceConfigs): Promise<LabAppliances> {
  const root = packageRoot();
  const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new LabApplianceError(`${cli} is missing: run "npm run build" first`);
  const dir = labRunDir(topology.prefix);
  mkdirSync(dir, { recursive: true });
  const sites = [
    { site: 'a' as const, namespace: topology.namespaces.rbA, config: configs?.a ?? path.join(root, 'examples', 'lab-a.yaml') },
    { site: 'b' as const, namespace: topology.namespaces.rbB, config: configs?.b ?? path.join(root, 'examples', 'lab-b.yaml') },
  ];
  const processes: (LabApplianceProcess & { socket: string; log: string })[] = [];
  for (const s of sites) {
    const socket = path.join(dir, `${s.site}.sock`);
    const log = path.join(dir, `${s.site}.log`);
    const fd = openSync(log, 'w');
    // REDBLACK_LAB_NODE_OPTIONS: extra Node.js flags for the appliances (e.g. --cpu-prof to profile).
    const nodeFlags = (process.env.REDBLACK_LAB_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn('ip', ['netns', 'exec', s.namespace, process.execPath, ...nodeFlags, cli, 'run', '--config', s.config, '--status-socket', socket], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.unref();
    if (child.pid === undefined) throw new LabApplianceError(`could not start the appliance in ${s.namespace}`);
    processes.push({ site: s.site, namespace: s.namespace, pid: child.pid, socket, log });
  }
  // Ready when each answers on its status socket.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const p of processes) {
    for (;;) {
      try {
        await readStatus(p.socket, 500);
        break;
      } catch {
        if (!alive(p.pid)) throw new LabApplianceError(`the appliance in ${p.namespace} exited during start: see ${p.log}`);
        if (Date.now() > deadline) throw new LabApplianceError(`the appliance in ${p.namespace} did not answer within ${READY_TIMEOUT_MS} ms: see ${p.log}`);
        await sleep(100);
      }
    }
  }
  return {
    processes: processes.map(({ site, namespace, pid }) => ({ site, namespace, pid })),
    async status() {
      const out: Record<string, unknown> = {};
      for (const p of processes) out[p.namespace] = await readStatus(p.socket).catch((e: Error) => ({ error: e.message }));
      return out;
    },
    async stop() {
      for (const p of processes) if (alive(p.pid)) process.kill(p.pid, 'SIGTERM');
      const until = Date.now() + STOP_TIMEOUT_MS;
      for (const p of processes) {
        while (alive(p.pid) && Date.now() < until) await sleep(50);
        if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
      }
    },
  };
}
