/**
 * Type declarations of the frame I/O exports of the native addon (native/src/frame_io.c) and its loader.
 * The addon is native/build/Release/redblack.node under the package root, so it loads from src/ (vitest) and from
 * dist/src/ alike.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../platform/package-root.js';
import { FramePortError } from './frame-port-error.js';

export interface NativeFramePortOptions {
  /** Network namespace name (under /var/run/netns) or absolute path; undefined: the current namespace. */
  netns: string | undefined;
  ringBlockBytes: number;
  ringBlocks: number;
  ringTimeoutMs: number;
  busyPoll: boolean;
}

export interface NativeInterfaceInfo {
  name: string;
  ifindex: number;
  mac: string;
  mtu: number;
  up: boolean;
  running: boolean;
  receiveOffloads: boolean;
}

/** Order of the values NativeFramePort.counters writes. */
export const NATIVE_COUNTER_NAMES = [
  'rxFrames', 'rxBytes', 'rxKernelDrops', 'rxTruncated', 'txFrames', 'txBytes', 'txErrors', 'linkUps', 'linkDowns',
] as const;

export interface NativeFramePort {
  receive(bytes: Uint8Array, start: Int32Array, length: Int32Array, slotSize: number, headroom: number,
    firstSlot: number, maxFrames: number): number;
  send(bytes: Uint8Array, start: Int32Array, length: Int32Array, slotList: Uint16Array | Int32Array,
    count: number): number;
  counters(into: Float64Array): void;
  info(): NativeInterfaceInfo;
  onReadable(cb: (() => void) | null): void;
  onLink(cb: ((up: boolean) => void) | null): void;
  close(): void;
}

export interface NativeFrameIo {
  NativeFramePort: new (ifname: string, options: NativeFramePortOptions) => NativeFramePort;
}

const ADDON_PATH = join('native', 'build', 'Release', 'redblack.node');

let loaded: NativeFrameIo | undefined;

export function loadNativeFrameIo(): NativeFrameIo {
  if (loaded) return loaded;
  let path = ADDON_PATH;
  try {
    path = join(packageRoot(), ADDON_PATH);
    loaded = createRequire(import.meta.url)(path) as NativeFrameIo;
  } catch (err) {
    throw new FramePortError('ADDON_MISSING', `cannot load the native addon ${path}: build it with 'npm install'`,
      { cause: err });
  }
  if (typeof loaded.NativeFramePort !== 'function') {
    loaded = undefined;
    throw new FramePortError('ADDON_MISSING', `native addon ${path} has no frame I/O: rebuild it with 'npm install'`);
  }
  return loaded;
}
