// Runs vitest with its usual output, then prints the plain closing line CI reads:
// "N passed, N failed, N skipped". Exits with vitest's status. Arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'redblack-tests-'));
const report = join(dir, 'results.json');
const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], { stdio: 'inherit' });
let status = run.status ?? 1;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) status = 1;
} catch {
  console.log('0 passed, 1 failed (vitest wrote no results)');
  status = 1;
}
rmSync(dir, { recursive: true, force: true });
process.exit(status);
