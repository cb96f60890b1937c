/** Tiny argument helpers for the `redblack` subcommands. */

/** A mistake in how the command was called; main prints the message and the usage. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** The value after `--name`, or undefined when the option is absent. */
export function optionValue(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) throw new CliUsageError(`${name} needs a value`);
  return value;
}

/** The value after `--name`, which must be one of `choices`; undefined when the option is absent. */
export function choiceOption<T extends string>(args: readonly string[], name: string, choices: readonly T[]): T | undefined {
  const value = optionValue(args, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new CliUsageError(`${name} must be ${choices.map((c) => `"${c}"`).join(' or ')}, got "${value}"`);
  return value as T;
}
