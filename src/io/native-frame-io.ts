/** Type declarations of the frame I/O exports of the native addon (native/src/frame_io.c). */
import { loadAddonLayer } from '../platform/native-addon.js';
import { FramePortError } from './frame-port-error.js';

/** Receive ring versions: TPACKET_V2 and TPACKET_V3 (RX_RING_NAMES in frame_io.c). */
export const RX_RINGS = ['v2', 'v3'] as const;

export type RxRing = (typeof RX_RINGS)[number];

export interface NativeFramePortOptions {
  /** Network namespace name (under /var/run/netns) or absolute path; undefined: the current namespace. */
  netns: string | undefined;
  ringFrames: number;
  ringFrameBytes: number;
  rxRing: RxRing;
  busyPoll: boolean;
  /** SO_MARK of every frame sent; 0: none. */
  mark: number;
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

/** The frame I/O exports; throws FramePortError ADDON_MISSING when the addon is not built or lacks them. */
export function loadNativeFrameIo(): NativeFrameIo {
  const { addon, problem } = loadAddonLayer<NativeFrameIo>('NativeFramePort', 'frame I/O');
  if (addon === null) throw new FramePortError('ADDON_MISSING', problem);
  return addon;
}
