/**
 * One NIC as a raw frame port: frames received land in FrameSlots at `slot * slotSize + headroom`, frames sent are
 * taken from FrameSlots by slot index. Backed by an AF_PACKET socket with batched recvmmsg and sendmmsg
 * (native/src/frame_io.c).
 *
 * Behaviour worth knowing:
 *  - The interface is put in promiscuous mode while the port is open, and GRO/LRO are switched off on it (they would
 *    merge frames beyond the MTU). Frames that still do not fit a slot are dropped and counted as rxTruncated.
 *  - VLAN tags the NIC stripped into metadata are put back into the frame.
 *  - Frames this port sends are never received back by it.
 *  - A frame is readable as soon as the kernel queued it (no ring block timer); when the queue of
 *    `receiveBufferBytes` is full the kernel drops frames and counts them (rxKernelDrops).
 */
import type { FrameSlots } from '../dataplane/frame-slots.js';
import { FramePortError } from './frame-port-error.js';
import {
  NATIVE_COUNTER_NAMES, loadNativeFrameIo, type NativeFramePort, type NativeFramePortOptions, type NativeInterfaceInfo,
} from './native-frame-io.js';

export interface FramePortOptions {
  /** Network namespace holding the interface: a name from `ip netns` or an absolute path. Default: ours. */
  netns?: string;
  /**
   * Receive queue of the socket (SO_RCVBUF), 64 KiB to 256 MiB: frames that arrive while it is full are dropped by
   * the kernel. Each queued frame is charged with its buffer (on a veth ~0.8 KiB for 64 bytes, ~2.3 KiB for 1500
   * bytes) against twice this value. Default 4 MiB: about 3600 full-size frames.
   */
  receiveBufferBytes?: number;
  /**
   * Busy polling: the socket is checked (one ioctl) on every event-loop turn instead of waiting in epoll, so the loop
   * never sleeps (one core spins). Off by default.
   */
  busyPoll?: boolean;
}

export type FramePortInfo = NativeInterfaceInfo;

export type FramePortCounters = Record<(typeof NATIVE_COUNTER_NAMES)[number], number>;

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FramePortError('INVALID_ARGUMENT', `option ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function checkOptions(o: NativeFramePortOptions): void {
  if (o.netns !== undefined && (o.netns === '' || (o.netns.includes('/') && !o.netns.startsWith('/')))) {
    throw new FramePortError('INVALID_ARGUMENT',
      `option netns must be a namespace name without '/' or an absolute path, got '${o.netns}'`);
  }
  checkInteger('receiveBufferBytes', o.receiveBufferBytes, 1 << 16, 1 << 28);
  if (typeof o.busyPoll !== 'boolean') {
    throw new FramePortError('INVALID_ARGUMENT', `option busyPoll must be true or false, got ${String(o.busyPoll)}`);
  }
}

export class FramePort {
  private readonly counterValues = new Float64Array(NATIVE_COUNTER_NAMES.length);
  private isClosed = false;

  private constructor(private readonly native: NativeFramePort, readonly ifname: string) {}

  /** Opens the interface; throws FramePortError (INTERFACE_NOT_FOUND, PERMISSION_DENIED, ...). */
  static open(ifname: string, options: FramePortOptions = {}): FramePort {
    const o: NativeFramePortOptions = {
      netns: options.netns,
      receiveBufferBytes: options.receiveBufferBytes ?? 1 << 22,
      busyPoll: options.busyPoll ?? false,
    };
    checkOptions(o);
    const { NativeFramePort } = loadNativeFrameIo();
    try {
      return new FramePort(new NativeFramePort(ifname, o), ifname);
    } catch (err) {
      throw FramePortError.fromNative(err);
    }
  }

  /**
   * Moves up to `maxFrames` received frames into slots firstSlot, firstSlot+1, ... and sets their start/length, with
   * one syscall per 256 frames. Returns how many; 0 when nothing is waiting. Slots from firstSlot + the count returned
   * up to firstSlot + maxFrames may have been written (frames dropped as too big).
   */
  receive(slots: FrameSlots, firstSlot: number, maxFrames: number): number {
    try {
      return this.native.receive(slots.bytes, slots.start, slots.length, slots.slotSize, slots.headroom, firstSlot,
        maxFrames);
    } catch (err) {
      throw FramePortError.fromNative(err);
    }
  }

  /**
   * Sends the frames of slots slotList[0..count) (each at slots.start[i], slots.length[i]) in order, in batches of
   * one syscall per 256 frames. Returns how many were sent; the others are counted in txErrors.
   */
  send(slots: FrameSlots, slotList: Uint16Array | Int32Array, count: number): number {
    try {
      return this.native.send(slots.bytes, slots.start, slots.length, slotList, count);
    } catch (err) {
      throw FramePortError.fromNative(err);
    }
  }

  /** `cb` runs when frames are waiting; it should call receive() until it returns 0. null stops it. */
  onReadable(cb: (() => void) | null): void {
    try {
      this.native.onReadable(cb);
    } catch (err) {
      throw FramePortError.fromNative(err);
    }
  }

  /** `cb(up)` runs on each link transition (up = administratively up and carrier present). null stops it. */
  onLink(cb: ((up: boolean) => void) | null): void {
    try {
      this.native.onLink(cb);
    } catch (err) {
      throw FramePortError.fromNative(err);
    }
  }

  /** The interface as the kernel reports it now. */
  get info(): FramePortInfo {
    try {
      return this.native.info();
    } catch (err) {
      throw FramePortError.fromNative(err);
    }
  }

  /** Counters since open (final values after close). Pass `into` to reuse an object. */
  counters(into: FramePortCounters = {} as FramePortCounters): FramePortCounters {
    this.native.counters(this.counterValues);
    for (let i = 0; i < NATIVE_COUNTER_NAMES.length; i++) into[NATIVE_COUNTER_NAMES[i]] = this.counterValues[i];
    return into;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Stops the callbacks, leaves promiscuous mode and releases the sockets. Idempotent. */
  close(): void {
    this.isClosed = true;
    this.native.close();
  }
}
