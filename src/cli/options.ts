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
