/** Runs a `redblack config ...` command in memory, capturing what it prints. */
import type { CheckOutput } from '../../src/cli/config-check.js';

export function runCaptured(command: (args: string[], out: CheckOutput) => number, args: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = command(args, { log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, out, err };
}
