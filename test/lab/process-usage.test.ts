import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { ProcessUsageError, readProcessUsage } from '../../src/lab/process-usage.js';

describe('readProcessUsage', () => {
  it('sees the CPU time a busy process burns and its resident memory', async () => {
    // The child touches a 64 MiB buffer, burns 0.5 s of its own CPU time (user and system: the loop's
    // getrusage calls are system time, which on a busy machine outgrew the user time alone), says
    // "done" and idles.
    const script = 'const b = Buffer.alloc(64 << 20, 1); for (let u = process.cpuUsage(); u.user + u.system < 500000; u = process.cpuUsage()); console.log("done"); setTimeout(() => {}, 10000);';
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const before = readProcessUsage(child.pid!);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child did not finish burning CPU within 20 s')), 20_000);
        child.stdout!.once('data', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const after = readProcessUsage(child.pid!);
      expect(after.pid).toBe(child.pid);
      expect(after.cpuSeconds - before.cpuSeconds).toBeGreaterThanOrEqual(0.45);
      expect(after.cpuSeconds - before.cpuSeconds).toBeLessThan(3);
      expect(after.rssKiB).toBeGreaterThan(64 * 1024);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('reports a process that is gone as a typed error', async () => {
    const child = spawn('true');
    await new Promise((resolve) => child.once('exit', resolve));
    // The PID is reaped; /proc/PID no longer exists (unless reused within this instant).
    expect(() => readProcessUsage(child.pid!)).toThrow(ProcessUsageError);
  });
});
