/**
 * The AEAD op records of one ESP engine's batch and their runs on the backend. Ops are added in
 * packet order and handed over AEAD_SUBMIT_CHUNK at a time while the batch is still being
 * prepared; they are taken back one by one, in the same order, each once its run is done. With
 * the backend's crypto thread, both ends of the batch overlap the sealing or opening.
 *   begin(bytes); k = add(packet) ... added(); submitRest(); take(packet) ...; end().
 */
import { AEAD_OP_STRIDE, AeadOp, type AeadBackend } from '../crypto/aead.js';

/**
 * Prepared packets an engine hands to the AEAD backend at a time while its batch is still being
 * classified: with a crypto thread, sealing the first ones overlaps preparing the rest.
 */
export const AEAD_SUBMIT_CHUNK = 32;

export class AeadRuns {
  readonly capacity: number;
  /** AEAD_OP_STRIDE int32 per op (see AeadOp), and each op's AeadStatus once its run is done. */
  readonly ops: Int32Array;
  readonly status: Uint8Array;
  /** The packet (slot index) of each op. */
  readonly packet: Int32Array;
  /** Ops added in this batch. */
  count = 0;
  private submitted = 0;
  private taken = 0;
  /** Per op: the backend's ticket for its run; the last ticket known done. */
  private readonly ticket: Float64Array;
  private settled = 0;
  private bytes: Uint8Array = new Uint8Array(0);

  /** `seal`: these ops are sealed (else opened). `capacity`: the most ops one batch may hold. */
  constructor(private readonly backend: AeadBackend, private readonly seal: boolean, capacity: number) {
    this.capacity = capacity;
    this.ops = new Int32Array(capacity * AEAD_OP_STRIDE);
    this.status = new Uint8Array(capacity);
    this.packet = new Int32Array(capacity);
    this.ticket = new Float64Array(capacity);
  }

  /** Starts a batch over the packets in `bytes`. */
  begin(bytes: Uint8Array): void {
    // A batch cut short (an exception before `end`) may still have runs in flight: let them finish first.
    if (this.count !== 0) this.backend.settle();
    this.bytes = bytes;
    this.count = this.submitted = this.taken = 0;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /**
   * Adds the op of `packet` (the caller checked `full`): its record says the SA handle, where
   * the ESP header is, the text length, and `sequenceHigh`, the high half of the 64-bit sequence number (ESN).
   * Returns the op index for the caller's own per-op fields; then call `added`.
   */
  add(packet: number, handle: number, espOffset: number, textLength: number, sequenceHigh: number): number {
    const k = this.count++;
    const o = k * AEAD_OP_STRIDE;
    this.ops[o + AeadOp.Handle] = handle;
    this.ops[o + AeadOp.EspOffset] = espOffset;
    this.ops[o + AeadOp.TextLength] = textLength;
    this.ops[o + AeadOp.SeqHigh] = sequenceHigh;
    this.packet[k] = packet;
    return k;
  }

  /** The op's packet bytes are ready: hand a full chunk over. */
  added(): void {
    if (this.count - this.submitted >= AEAD_SUBMIT_CHUNK) this.submitRest();
  }

  /** Hands every op not yet handed over to the backend. */
  submitRest(): void {
    if (this.count === this.submitted) return;
    const ticket = this.backend.submit(this.seal, this.bytes, this.ops, this.submitted, this.count - this.submitted, this.status);
    this.ticket.fill(ticket, this.submitted, this.count);
    this.submitted = this.count;
  }

  /** The op of `packet`, the next one added, once its run is done (its outcome in status[k]). */
  take(packet: number): number {
    const k = this.taken++;
    if (k >= this.submitted || this.packet[k] !== packet) throw new RangeError(`ESP: packet ${packet} is not the next one handed to the AEAD backend`);
    this.settleThrough(this.ticket[k]);
    return k;
  }

  /**
   * Ends the batch: waits for its runs not taken. Only its own: the other engine's runs queued
   * behind them on the same crypto thread go on while that engine still takes its packets.
   */
  end(): void {
    if (this.submitted > 0) this.settleThrough(this.ticket[this.submitted - 1]);
    this.count = this.submitted = this.taken = 0;
  }

  /** Waits until run `ticket` (and every run before it) is done. */
  private settleThrough(ticket: number): void {
    if (ticket <= this.settled) return;
    this.backend.settle(ticket);
    this.settled = ticket;
  }
}
