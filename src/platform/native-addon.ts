/**
 * The one loader of the native addon (native/build/Release/redblack.node under the package root), so it loads from
 * src/ (vitest) and from dist/src/ alike. Each layer keeps its own typed view of the exports it uses.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

/** Where node-gyp puts the addon, relative to the package root. */
export const NATIVE_ADDON_PATH = join('native', 'build', 'Release', 'redblack.node');

/** The addon's exports, or null and why it did not load (a message that says how to fix it). */
export type AddonLoad = { addon: Readonly<Record<string, unknown>>; problem: null } | { addon: null; problem: string };

let loaded: AddonLoad | undefined;

/** Loads the addon once per process; a failure is remembered too. */
export function loadAddon(): AddonLoad {
  if (loaded) return loaded;
  let path = NATIVE_ADDON_PATH;
  try {
    path = join(packageRoot(), NATIVE_ADDON_PATH);
    loaded = { addon: createRequire(import.meta.url)(path) as Record<string, unknown>, problem: null };
  } catch (err) {
    const notBuilt = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    loaded = {
      addon: null,
      problem: notBuilt
        ? `native addon ${path} is not built: run 'npm run build:native'`
        : `native addon ${path} does not load (${(err as Error).message}): rebuild it with 'npm run build:native'`,
    };
  }
  return loaded;
}
