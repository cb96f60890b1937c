import { spawnSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { DATAPLANE_V8_FLAGS, tuneV8ForDataplane } from '../../src/platform/v8-tuning.js';

vi.mock('node:v8', async (original) => ({ ...(await original<typeof import('node:v8')>()), setFlagsFromString: vi.fn() }));

describe('tuneV8ForDataplane', () => {
  it('hands V8 every flag of DATAPLANE_V8_FLAGS', () => {
    tuneV8ForDataplane();
    expect(vi.mocked(setFlagsFromString).mock.calls.map(([flag]) => flag)).toEqual([...DATAPLANE_V8_FLAGS]);
  });

  it('sets only flags this V8 knows (it prints unknown ones instead of throwing)', () => {
    const known = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
    for (const flag of DATAPLANE_V8_FLAGS) expect(known).toContain(`  ${flag.split('=')[0]} (`);
  });
});
