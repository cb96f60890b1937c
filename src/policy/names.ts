/**
 * Names of SPD and PAD entries, of the appliance and of its peers. They appear in logs, counters
 * and status output, so they are short and never need quoting.
 */

import { type IssueList, quote } from './validation.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The name, or null after reporting under `path` what a name may hold. */
export function readName(value: unknown, path: string, issues: IssueList): string | null {
  if (typeof value === 'string' && NAME_PATTERN.test(value)) return value;
  issues.add(path, `${quote(value)} is not a name: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  return null;
}
