/**
 * One NIC as a raw frame port: frames received land in FrameSlots at `slot * slotSize + headroom`, frames sent are
 * taken from FrameSlots by slot index. Backed by an AF_PACKET socket with a TPACKET_V2 (or, by option, TPACKET_V3)
 * receive ring and batched sendmmsg (native/src/frame_io.c).
 *
 * Behaviour worth knowing:
 *  - The interface is put in promiscuous mode while the port is open, and GRO/LRO are switched off on it (they would
 *    merge frames beyond the MTU). Frames that still do not fit a slot are dropped and counted as rxTruncated.
 *  - VLAN tags the NIC stripped into metadata are put back into the frame.
 *  - Frames this port sends are never received back by it.
 *  - With the default V2 ring a frame is readable as soon as the kernel wrote it into the ring; with a V3 ring, once
 *    its block is full or its retire timer fired (1 ms, see rxRing). While the ring is full of unread frames, the kernel drops what arrives and counts
 *    it (rxKernelDrops).
 */
import type { FrameSlots } from '../dataplane/frame-slots.js';
import { FramePortError } from './frame-port-error.js';
import {
  NATIVE_COUNTER_NAMES, RX_RINGS, loadNativeFrameIo, type NativeFramePort, type NativeFramePortOptions,
  type NativeInterfaceInfo, type RxRing,
} from './native-frame-io.js';

export { RX_RINGS, type RxRing };

export interface FramePortOptions {
  /** Network namespace holding the interface: a name from `ip netns` or an absolute path. Default: ours. */
  netns?: string;
  /**
   * Frames the receive ring holds, 16 to 262144 (rounded up to fill whole pages). Default DEFAULT_RING_FRAMES, 8192:
   * about 230 ms of 1400-byte frames at 400 Mbit/s, so the kernel drops nothing while the process waits that long
   * for a CPU (`npm run soak` at 400 Mbit/s lost 0.75-1.26 % in the rings with 2048 frames, 0.37 % with 8192).
   */
  ringFrames?: number;
  /**
   * Bytes per ring frame, a power of two from 2048 to 65536; the kernel's header takes 66 of them, so the default
   * 2048 holds frames of up to 1982 bytes. Bigger frames are dropped and counted as rxTruncated.
   * The ring takes ringFrames * ringFrameBytes of memory (at most 1 GiB; default 16 MiB).
   * With rxRing 'v3' a frame may take a whole block: up to 8 * ringFrameBytes (rounded up to whole pages) - 130 bytes.
   */
  ringFrameBytes?: number;
  /**
   * Receive ring version (Linux Documentation/networking/packet_mmap.rst). 'v2' (default): one ring frame per packet,
   * readable at once. 'v3': packets packed into blocks of 8 ring frames' worth, handed over when a block is full or
   * its 1 ms retire timer fires (a scheduler tick, e.g. 4 ms at HZ=250, on kernels without the hrtimer retire timer),
   * so a lone frame waits up to that long per hop; under load one wakeup per block.
   */
  rxRing?: RxRing;
  /**
   * Busy polling: the readable callback is checked on every event-loop turn instead of waiting in epoll, so the loop
   * never sleeps (one core spins). Off by default. SO_BUSY_POLL is not used: ring reads make no receive syscalls.
   */
  busyPoll?: boolean;
  /**
   * Packet mark (SO_MARK) put on every frame this port sends, so a netfilter egress rule can let them pass and drop
   * what the host stack sends (see host-stack-isolation.ts). Needs CAP_NET_ADMIN. Default 0: none.
   */
  mark?: number;
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
  checkInteger('ringFrames', o.ringFrames, 16, 1 << 18);
  checkInteger('ringFrameBytes', o.ringFrameBytes, 1 << 11, 1 << 16);
  if ((o.ringFrameBytes & (o.ringFrameBytes - 1)) !== 0) {
    throw new FramePortError('INVALID_ARGUMENT', `option ringFrameBytes must be a power of two, got ${o.ringFrameBytes}`);
  }
  if (o.ringFrames * o.ringFrameBytes > 1 << 30) {
    throw new FramePortError('INVALID_ARGUMENT',
      `the receive ring of ringFrames ${o.ringFrames} x ringFrameBytes ${o.ringFrameBytes} exceeds 1 GiB: use fewer frames`);
  }
  if (!RX_RINGS.includes(o.rxRing)) {
    throw new FramePortError('INVALID_ARGUMENT',
      `option rxRing must be ${RX_RINGS.map((r) => `'${r}'`).join(' or ')}, got '${String(o.rxRing)}'`);
  }
  checkInteger('mark', o.mark, 0, 2 ** 32 - 1);
  if (typeof o.busyPoll !== 'boolean') {
    throw new FramePortError('INVALID_ARGUMENT', `option busyPoll must be true or false, got ${String(o.busyPoll)}`);
  }
}

export const DEFAULT_RING_FRAMES = 8192;

export class FramePort {
  private readonly counterValues = new Float64Array(NATIVE_COUNTER_NAMES.length);

  private constructor(private readonly native: NativeFramePort, readonly ifname: string, readonly rxRing: RxRing) {}

  /** Opens the interface; throws FramePortError (INTERFACE_NOT_FOUND, PERMISSION_DENIED, ...). */
  static open(ifname: string, options: FramePortOptions = {}): FramePort {
    const o: NativeFramePortOptions = {
      netns: options.netns,
      ringFrames: options.ringFrames ?? DEFAULT_RING_FRAMES,
      ringFrameBytes: options.ringFrameBytes ?? 2048,
      rxRing: options.rxRing ?? 'v2',
      busyPoll: options.busyPoll ?? false,
      mark: options.mark ?? 0,
    };
    checkOptions(o);
    const { NativeFramePort } = loadNativeFrameIo();
    try {
      return new FramePort(new NativeFramePort(ifname, o), ifname, o.rxRing);
    } catch (err) {
      throw FramePortError.fromNative(err);
    }
  }

  /**
   * Moves up to `maxFrames` received frames into slots firstSlot, firstSlot+1, ... and sets their start/length.
   * Returns how many; 0 when nothing is waiting. Makes no syscall.
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

  /** Stops the callbacks, leaves promiscuous mode and releases the sockets and the ring. Idempotent. */
  close(): void {
    this.native.close();
  }
}
