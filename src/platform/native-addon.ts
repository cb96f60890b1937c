/**
 * The one loader of the native addon (native/build/Release/redblack.node under the package root), so it loads from
 * src/ (vitest) and from dist/src/ alike. Each layer keeps its own typed view of the exports it uses and loads it
 * through loadAddonLayer, which also says what is wrong when the addon is missing, broken or lacks that layer.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

/** Where node-gyp puts the addon, relative to the package root. */
const NATIVE_ADDON_PATH = join('native', 'build', 'Release', 'redblack.node');

/** A layer's exports, or null and why they did not load (a message that says how to fix it). */
export type AddonLoad<T> = { addon: T; problem: null } | { addon: null; problem: string };

let loaded: AddonLoad<Readonly<Record<string, unknown>>> | undefined;

/** Loads the addon once per process; a failure is remembered too. */
function loadAddon(): AddonLoad<Readonly<Record<string, unknown>>> {
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

/**
 * The addon's exports typed as layer T, when the addon loads and exports the function `marker` (one of T's, so an
 * addon built before the layer existed is caught); `layer` names the layer in the problem ("frame I/O").
 */
export function loadAddonLayer<T>(marker: string, layer: string): AddonLoad<T> {
  const { addon, problem } = loadAddon();
  if (addon === null) return { addon: null, problem };
  if (typeof addon[marker] !== 'function') {
    return { addon: null, problem: `native addon ${NATIVE_ADDON_PATH} has no ${layer}: rebuild it with 'npm run build:native'` };
  }
  return { addon: addon as unknown as T, problem: null };
}
