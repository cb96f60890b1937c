/** Typed errors of raw frame I/O; `code` matches the codes the native addon throws (native/src/frame_io.c). */

export type FramePortErrorCode =
  /** No interface of that name (in that network namespace). */
  | 'INTERFACE_NOT_FOUND'
  /** The network namespace given in options.netns does not exist. */
  | 'NETNS_NOT_FOUND'
  /** Missing CAP_NET_RAW / CAP_NET_ADMIN (or CAP_SYS_ADMIN to enter a namespace). */
  | 'PERMISSION_DENIED'
  /** Bad option or argument; the message names it. */
  | 'INVALID_ARGUMENT'
  /** The port was closed. */
  | 'PORT_CLOSED'
  /** The native addon is not built. */
  | 'ADDON_MISSING'
  /** Any other system call failure; the message names the call and the errno text. */
  | 'SYSTEM_ERROR';

const CODES: ReadonlySet<string> = new Set<FramePortErrorCode>([
  'INTERFACE_NOT_FOUND', 'NETNS_NOT_FOUND', 'PERMISSION_DENIED', 'INVALID_ARGUMENT', 'PORT_CLOSED', 'ADDON_MISSING',
  'SYSTEM_ERROR',
]);

export class FramePortError extends Error {
  override readonly name = 'FramePortError';

  constructor(readonly code: FramePortErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /** Wraps an error thrown by the native addon (an Error with a string `code`). */
  static fromNative(err: unknown): FramePortError {
    if (err instanceof FramePortError) return err;
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e?.code === 'string' && CODES.has(e.code) ? (e.code as FramePortErrorCode) : 'SYSTEM_ERROR';
    return new FramePortError(code, typeof e?.message === 'string' ? e.message : String(err), { cause: err });
  }
}
