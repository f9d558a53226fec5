// A TCP socket descriptor: a listener pre-opened for the program, or a connection it accepted. Its state is the
// reference to the host socket (home node + handle), its O_NONBLOCK flag, and whether it was reset because its home
// was lost; the bytes stay at the home (sockets.ts), so nothing else travels.
import { Fdflags, Filetype, Rights } from './constants.js';
import { Descriptor, scatter, type DescriptorState, type Fdstat, type Filestat } from './descriptor.js';
import { Errno, WasiError, fail } from './errno.js';
import { SOCKET_CHUNK, SocketLost, type RecvFlags, type SocketHost, type SocketRef } from './sockets.js';

const STREAM_RIGHTS =
  Rights.FD_READ | Rights.FD_WRITE | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE | Rights.SOCK_SHUTDOWN;
const LISTENER_RIGHTS = Rights.SOCK_ACCEPT | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET | Rights.POLL_FD_READWRITE;

export type SocketRole = 'listener' | 'stream';

export class SocketDescriptor extends Descriptor {
  readonly kind = 'socket';
  /** Reset for good: its home was lost (every call ECONNRESET, without asking the home). */
  lost: boolean;

  constructor(
    private readonly host: SocketHost,
    readonly role: SocketRole,
    public ref: SocketRef,
    private nonblocking: boolean,
    lost = false,
    /** A pre-opened listener's index (WasiOptions.listeners, app.listen). */
    readonly listen?: number,
  ) {
    super();
    this.lost = lost;
  }

  fdstat(): Fdstat {
    const rights = this.role === 'listener' ? LISTENER_RIGHTS : STREAM_RIGHTS;
    return { filetype: Filetype.SOCKET_STREAM, flags: this.nonblocking ? Fdflags.NONBLOCK : 0, rightsBase: rights, rightsInheriting: 0n };
  }

  filestat(): Filestat {
    return { dev: 0n, ino: 0n, filetype: Filetype.SOCKET_STREAM, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n };
  }

  exportState(): DescriptorState {
    const listen = this.listen === undefined ? {} : { listen: this.listen };
    return { kind: 'socket', role: this.role, home: this.ref.home, id: this.ref.id, seq: this.ref.seq, nonblocking: this.nonblocking, lost: this.lost, ...listen };
  }

  /** Only O_NONBLOCK means something on a socket. */
  override setFlags(flags: number): void {
    if ((flags & ~Fdflags.NONBLOCK) !== 0) fail(Errno.INVAL, 'a socket takes only the O_NONBLOCK flag');
    this.nonblocking = (flags & Fdflags.NONBLOCK) !== 0;
  }

  /** A call to the home, numbered (sockets.ts: SocketRef.seq); a lost home resets this socket for good. */
  private use<T>(f: (ref: SocketRef) => T): T {
    if (this.lost) fail(Errno.CONNRESET, 'the home of this socket is gone');
    const ref = { ...this.ref, seq: this.ref.seq + 1 };
    try {
      const r = f(ref);
      this.ref = ref;
      return r;
    } catch (e) {
      if (e instanceof SocketLost) this.lost = true;
      else this.ref = ref; // an error answer is a call the home counted too
      throw e;
    }
  }

  private stream(what: string): void {
    if (this.role !== 'stream') fail(Errno.NOTCONN, `${what} on a listening socket`);
  }

  accept(nonblocking: boolean): SocketDescriptor {
    if (this.role !== 'listener') fail(Errno.INVAL, 'accept on a socket that is not listening');
    const ref = this.use((me) => this.host.accept(me, this.nonblocking));
    return new SocketDescriptor(this.host, 'stream', ref, nonblocking);
  }

  /** Into `bufs` in order; returns the bytes received (0: end of stream). */
  recv(bufs: Uint8Array[], flags: Omit<RecvFlags, 'nonblocking'>): number {
    this.stream('recv');
    const total = Math.min(SOCKET_CHUNK, bufs.reduce((n, b) => n + b.length, 0));
    if (total === 0) return 0;
    const data = this.use((me) => this.host.recv(me, total, { ...flags, nonblocking: this.nonblocking }));
    return scatter(data, bufs, total, 'socket host');
  }

  /** A blocking send takes everything (in chunks the relay can carry); a non-blocking one what fits now. */
  send(data: Uint8Array): number {
    this.stream('send');
    let done = 0;
    do {
      const chunk = data.subarray(done, Math.min(data.length, done + SOCKET_CHUNK));
      let n: number;
      try {
        n = this.use((me) => this.host.send(me, chunk, this.nonblocking));
      } catch (e) {
        if (done > 0 && e instanceof WasiError && e.errno === Errno.AGAIN) return done;
        throw e;
      }
      done += n;
      if (this.nonblocking && n < chunk.length) return done;
    } while (done < data.length);
    return done;
  }

  shutdown(how: number): void {
    if (how < 1 || how > 3) fail(Errno.INVAL, `shutdown how ${how}`);
    this.stream('shutdown');
    this.use((me) => this.host.shutdown(me, how));
  }

  override read(bufs: Uint8Array[]): number {
    return this.recv(bufs, { peek: false, waitAll: false });
  }
  override write(data: Uint8Array): number {
    return this.send(data);
  }
  override pread(): number { return fail(Errno.SPIPE); }
  override pwrite(): number { return fail(Errno.SPIPE); }
  override seek(): bigint { return fail(Errno.SPIPE); }
  override tell(): bigint { return fail(Errno.SPIPE); }

  /** fd_close: the host socket is closed at its home (a lost one is gone already). */
  override close(): void {
    if (this.lost) return;
    try {
      this.use((me) => this.host.close(me));
    } catch (e) {
      if (!(e instanceof SocketLost)) throw e;
    }
  }

  /** The program leaves this node (or ends): the host socket stays open at its home, for the program to use on. */
  override release(): void {}
}
