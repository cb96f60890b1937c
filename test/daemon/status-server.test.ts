import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatusServer, StatusUnavailableError, readStatus } from '../../src/daemon/status-server.js';

describe('status socket', () => {
  it('answers each connection with the current status as JSON', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rb-status-')), 'a.sock');
    let n = 0;
    const server = await StatusServer.listen(path, () => ({ n: ++n }));
    try {
      expect(await readStatus(path)).toEqual({ n: 1 });
      expect(await readStatus(path)).toEqual({ n: 2 });
    } finally {
      await server.close();
    }
    await expect(readStatus(path, 500)).rejects.toBeInstanceOf(StatusUnavailableError);
  });

  it('waits for a status given as a promise, and answers a failed one with its error', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rb-status-')), 'a.sock');
    let fail = false;
    const server = await StatusServer.listen(path, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (fail) throw new Error('nft did not answer');
      return { later: true };
    });
    try {
      expect(await readStatus(path)).toEqual({ later: true });
      fail = true;
      expect(await readStatus(path)).toEqual({ error: 'status failed: nft did not answer' });
    } finally {
      await server.close();
    }
  });
});
