/**
 * Typed reads of configuration fields. Each reader reports a wrong value under its path with
 * what to write instead, and returns null (or the default) so validation goes on and every
 * problem of the file is reported at once.
 */

import {
  checkKnownFields,
  isPlainObject,
  IssueList,
  quote,
} from '../policy/validation.js';

/** An object with only `known` fields; reports anything else as `must be <shape>`. */
export function readSection(
  value: unknown,
  path: string,
  known: readonly string[],
  shape: string,
  issues: IssueList,
): Record<string, unknown> | null {
  if (!isPlainObject(value)) {
    issues.add(path, `must be ${shape}`);
    return null;
  }
  checkKnownFields(value, known, path, issues);
  return value;
}

/** A YAML sequence; absent or empty (`peers:`) gives an empty list. */
export function readList(value: unknown, path: string, what: string, issues: IssueList): unknown[] | null {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  issues.add(path, `must be a list of ${what} (write "[]" for none)`);
  return null;
}

export function readBoolean(value: unknown, path: string, fallback: boolean, issues: IssueList): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  issues.add(path, `${quote(value)} is not a boolean: use true or false`);
  return fallback;
}

/** A whole number in [min, max]; `what` names the value ("an MTU") and `why` cites the rule. */
export function readInteger(value: unknown, path: string, min: number, max: number, what: string, why: string, issues: IssueList): number | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  issues.add(path, `${quote(value)} is not ${what}: use a whole number from ${min} to ${max}${why === '' ? '' : ` (${why})`}`);
  return null;
}
