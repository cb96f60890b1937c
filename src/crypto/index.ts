/**
 * Picks the AEAD backend: the native OpenSSL addon when it loads, otherwise the pure-TypeScript
 * noble backend with one warning saying why. REDBLACK_AEAD=native|noble forces one.
 */
import { AeadError, type AeadBackend } from './aead.js';
import { NobleAeadBackend } from './noble-backend.js';
import { NativeAeadBackend, loadNativeAddon, nativeAddonProblem, type NativeAddon } from './native-backend.js';

export type AeadBackendName = AeadBackend['name'];

/** The environment variable that forces a backend. */
export const AEAD_BACKEND_ENV = 'REDBLACK_AEAD';

export interface AeadBackendChoice {
  /** Environment to read REDBLACK_AEAD from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where the fallback warning goes (default: one line on stderr). */
  warn?: (message: string) => void;
  /** Loads the native addon, or returns why it cannot (default: the built addon). */
  loadNative?: () => NativeAddon | string;
}

function loadBuiltAddon(): NativeAddon | string {
  return loadNativeAddon() ?? nativeAddonProblem() ?? 'native addon unavailable';
}

function warnOnStderr(message: string): void {
  process.stderr.write(`redblack: ${message}\n`);
}

/** Creates the backend the environment asks for; throws AeadError when that cannot be honoured. */
export function createAeadBackend(choice: AeadBackendChoice = {}): AeadBackend {
  const env = choice.env ?? process.env;
  const forced = env[AEAD_BACKEND_ENV];
  if (forced !== undefined && forced !== '' && forced !== 'native' && forced !== 'noble') {
    throw new AeadError(`${AEAD_BACKEND_ENV} must be "native" or "noble", got "${forced}": fix it or unset it to pick automatically`);
  }
  if (forced === 'noble') return new NobleAeadBackend();
  const native = (choice.loadNative ?? loadBuiltAddon)();
  if (typeof native !== 'string') return new NativeAeadBackend(native);
  if (forced === 'native') throw new AeadError(`${AEAD_BACKEND_ENV}=native but ${native}`);
  (choice.warn ?? warnOnStderr)(`${native}; using the slower @noble/ciphers backend`);
  return new NobleAeadBackend();
}

let selected: AeadBackend | undefined;

/** The process-wide backend, chosen once from process.env (all SAs must live in one backend). */
export function selectAeadBackend(): AeadBackend {
  selected ??= createAeadBackend();
  return selected;
}

/** Name of the backend selectAeadBackend chose, or null before the first call (for `redblack info`). */
export function aeadBackendInUse(): AeadBackendName | null {
  return selected?.name ?? null;
}
