/**
 * Captures what crosses the lab's wan bridge with tcpdump, started and stopped by PID and bounded
 * in packets and time even if this process dies (tcpdump runs under `timeout`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LAB_INTERFACES, type LabTopology } from './topology.js';

export interface WanCaptureOptions {
  /** Where the pcap goes. Default: a fresh directory under the system temp dir. */
  path?: string;
  /** tcpdump stops by itself after this many frames. Default 100000. */
  maxPackets?: number;
  /** tcpdump is stopped after this many seconds. Default 600. */
  maxSeconds?: number;
  /** How long to wait for tcpdump to start listening. Default 5000 ms. */
  startTimeoutMs?: number;
  /**
   * A tcpdump (pcap-filter(7)) expression: only matching frames are written. Default: every frame.
   * A long run can leave out its bulk ESP ("not ip proto 50") to keep the file small.
   */
  filter?: string;
}

export interface WanCapture {
  /** The pcap file being written. */
  readonly path: string;
  /** PID of the `timeout` process supervising tcpdump (signals are passed on to tcpdump). */
  readonly pid: number;
  /**
   * Stops tcpdump (SIGINT, so it flushes whole records; SIGKILL after 5 s) and returns the pcap.
   * A tcpdump that outlives a crash is ended by the lab teardown, or by `timeout` at maxSeconds.
   */
  stop(): Promise<Uint8Array>;
}

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts tcpdump on wan's bridge and resolves once it is listening. */
export async function startWanCapture(topology: LabTopology, options: WanCaptureOptions = {}): Promise<WanCapture> {
  const file = options.path ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'redblack-lab-')), 'wan.pcap');
  const maxPackets = options.maxPackets ?? 100_000;
  const maxSeconds = options.maxSeconds ?? 600;
  const startTimeoutMs = options.startTimeoutMs ?? 5000;
  // --immediate-mode: no frames waiting in the kernel ring when we stop it; -U: write each frame
  // as it arrives; -Z root: keep write access to the file; -s 0: whole frames.
  const child = spawn(
    'ip',
    ['netns', 'exec', topology.namespaces.wan, 'timeout', '-s', 'INT', '-k', '5', String(maxSeconds),
      'tcpdump', '-i', LAB_INTERFACES.bridge, '--immediate-mode', '-U', '-nn', '-Z', 'root', '-s', '0', '-c', String(maxPackets), '-w', file,
      ...(options.filter === undefined ? [] : [options.filter])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.once('error', () => undefined); // a failed spawn leaves pid undefined; reported below
  const pid = child.pid;
  if (pid === undefined) throw new CaptureError('capture: could not spawn `ip netns exec ... tcpdump`; are iproute2 and tcpdump installed?');
  let stderr = '';
  const done = exited(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM'); // `timeout` passes it on to tcpdump
      reject(new CaptureError(`capture: tcpdump on ${topology.namespaces.wan}/${LAB_INTERFACES.bridge} did not start listening within ${startTimeoutMs} ms: ${stderr.trim()}`));
    }, startTimeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/listening on /.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void done.then(() => {
      clearTimeout(timer);
      reject(new CaptureError(`capture: tcpdump exited before listening (exit ${child.exitCode ?? child.signalCode}): ${stderr.trim() || 'no output'}`));
    });
  });

  return {
    path: file,
    pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGINT');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(killer);
      }
      return new Uint8Array(readFileSync(file));
    },
  };
}
