/**
 * Runs the external tools the lab drives (ip, ethtool, sysctl, ping, iperf3, strongswan-netns.sh)
 * with a bounded run time, and reports failures as typed errors naming the command.
 */
import { execFile } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  /** Kill the command after this long. Default 15 s. */
  timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. Default false. */
  allowFailure?: boolean;
  /** Kills the command (SIGKILL) when aborted. */
  signal?: AbortSignal;
}

export class LabCommandError extends Error {
  override readonly name = 'LabCommandError';
  constructor(
    readonly argv: readonly string[],
    readonly code: number | string,
    readonly stderr: string,
  ) {
    super(`lab: \`${argv.join(' ')}\` failed (${typeof code === 'number' ? `exit ${code}` : code}): ${stderr.trim() || 'no error output'}`);
  }
}

/** Runs argv[0] with the rest as arguments; never through a shell. */
export function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20, signal: options.signal }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ code: 0, stdout, stderr });
        return;
      }
      const exit = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (exit.killed === true) {
        reject(new LabCommandError(argv, `killed after ${timeoutMs} ms`, stderr));
      } else if (typeof exit.code === 'number' && options.allowFailure === true) {
        resolve({ code: exit.code, stdout, stderr });
      } else if (typeof exit.code === 'number') {
        reject(new LabCommandError(argv, exit.code, stderr));
      } else {
        reject(new LabCommandError(argv, String(exit.code ?? 'spawn error'), `${error.message}${exit.code === 'ENOENT' ? ' (is the tool installed?)' : ''}`));
      }
    });
  });
}

/** The argv that runs `argv` inside network namespace `namespace`. */
export function inNamespace(namespace: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', namespace, ...argv];
}

/** Whether process `pid` still exists: signal 0 checks without signalling (kill(2)). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals `pid`, which may have exited meanwhile (kill(2) ESRCH is not an error here). */
function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Ends each of `pids`: SIGTERM (a chance to clean up), then SIGKILL for those alive after `graceMs`. */
export async function endProcesses(pids: readonly number[], graceMs: number): Promise<void> {
  for (const pid of pids) signalProcess(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (pids.some(processAlive) && Date.now() < until) await sleep(50);
  for (const pid of pids.filter(processAlive)) signalProcess(pid, 'SIGKILL');
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
