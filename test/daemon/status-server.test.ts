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
});
