// WASI preview1 errno values, the error type the library OS throws internally, and the mapping from host
// error codes ("ENOENT", as thrown by node:fs and by our backends) to WASI errno.

export const Errno = {
  SUCCESS: 0, '2BIG': 1, ACCES: 2, ADDRINUSE: 3, ADDRNOTAVAIL: 4, AFNOSUPPORT: 5, AGAIN: 6, ALREADY: 7,
  BADF: 8, BADMSG: 9, BUSY: 10, CANCELED: 11, CHILD: 12, CONNABORTED: 13, CONNREFUSED: 14, CONNRESET: 15,
  DEADLK: 16, DESTADDRREQ: 17, DOM: 18, DQUOT: 19, EXIST: 20, FAULT: 21, FBIG: 22, HOSTUNREACH: 23, IDRM: 24,
  ILSEQ: 25, INPROGRESS: 26, INTR: 27, INVAL: 28, IO: 29, ISCONN: 30, ISDIR: 31, LOOP: 32, MFILE: 33, MLINK: 34,
  MSGSIZE: 35, MULTIHOP: 36, NAMETOOLONG: 37, NETDOWN: 38, NETRESET: 39, NETUNREACH: 40, NFILE: 41, NOBUFS: 42,
  NODEV: 43, NOENT: 44, NOEXEC: 45, NOLCK: 46, NOLINK: 47, NOMEM: 48, NOMSG: 49, NOPROTOOPT: 50, NOSPC: 51,
  NOSYS: 52, NOTCONN: 53, NOTDIR: 54, NOTEMPTY: 55, NOTRECOVERABLE: 56, NOTSOCK: 57, NOTSUP: 58, NOTTY: 59,
  NXIO: 60, OVERFLOW: 61, OWNERDEAD: 62, PERM: 63, PIPE: 64, PROTO: 65, PROTONOSUPPORT: 66, PROTOTYPE: 67,
  RANGE: 68, ROFS: 69, SPIPE: 70, SRCH: 71, STALE: 72, TIMEDOUT: 73, TXTBSY: 74, XDEV: 75, NOTCAPABLE: 76,
} as const;

export type ErrnoName = keyof typeof Errno;

/** Thrown inside the library OS; the ABI layer turns it into the function's errno result. */
export class WasiError extends Error {
  constructor(readonly errno: number, message?: string) {
    super(message ?? `WASI errno ${errno}`);
    this.name = 'WasiError';
  }
}

export function fail(errno: number, message?: string): never {
  throw new WasiError(errno, message);
}

/** Host error code string ("ENOENT", "ENOTEMPTY", ...) to WASI errno; unknown codes become EIO. */
export function errnoFromCode(code: string): number {
  const name = code.startsWith('E') ? code.slice(1) : code;
  if (name === 'OPNOTSUPP') return Errno.NOTSUP;
  if (name === 'WOULDBLOCK') return Errno.AGAIN;
  const v = (Errno as Record<string, number>)[name];
  return v === undefined || v === 0 ? Errno.IO : v;
}

/** Any thrown value to an errno, or undefined when it is not an OS-style error (a bug: let it trap). */
export function errnoOf(e: unknown): number | undefined {
  if (e instanceof WasiError) return e.errno;
  if (e !== null && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string') {
    const code = (e as { code: string }).code;
    if (/^E[A-Z0-9]+$/.test(code)) return errnoFromCode(code);
  }
  return undefined;
}
