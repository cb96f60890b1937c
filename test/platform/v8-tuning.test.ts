import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/platform/package-root.js';
import { DATAPLANE_V8_FLAGS } from '../../src/platform/v8-tuning.js';

describe('tuneV8ForDataplane', () => {
  it('sets only flags this V8 knows, and it accepts them without a word (unknown flags are only printed, not thrown)', () => {
    const known = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
    for (const flag of DATAPLANE_V8_FLAGS) expect(known).toContain(`  ${flag.split('=')[0]} (`);
    const module = join(packageRoot(), 'dist', 'src', 'platform', 'v8-tuning.js');
    const applied = spawnSync(process.execPath, ['--input-type=module', '-e', `import { tuneV8ForDataplane } from ${JSON.stringify(module)}; tuneV8ForDataplane();`], { encoding: 'utf8' });
    expect(applied.status).toBe(0);
    expect(applied.stderr).toBe('');
  });
});
