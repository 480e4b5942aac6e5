/**
 * System calls for an OCI terminal: a pseudo-terminal made inside the
 * container, its master handed to the caller's console socket (one
 * SCM_RIGHTS message carrying one descriptor, as runc sends it), the window
 * size; and the container's network namespace, handed to its init over the
 * launcher's channel the same way. Every call returns a Result carrying the
 * errno by name.
 */
import fs from 'node:fs';
import type { Koffi } from './koffi-native.js';
import { lazyFunc, libcGroup } from './lazy.js';
import { ERRNO, sysError as fail } from './errno.js';
import { AF_UNIX, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_NOSIGNAL, SCM_RIGHTS, SIZEOF, SOCK_CLOEXEC, SOCK_STREAM, SOL_SOCKET, TIOCGPTN, TIOCSPTLCK, TIOCSWINSZ } from './consts.js';
import { ok, type Result } from './types.js';

/** sockaddr_un's sun_path (after the 2-byte family): the path and its NUL. */
const SUN_PATH_MAX = SIZEOF.struct_sockaddr_un - 2 - 1;

export interface TerminalLibc {
  /** socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC) connected to PATH. */
  connectUnix(path: string): Result<number>;
  /** open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC) as the caller's root resolves it, unlockpt, ptsname: the master and the slave's path. */
  openPty(): Result<{ master: number; slave: string }>;
  /** ioctl(fd, TIOCSWINSZ). */
  setWindowSize(fd: number, rows: number, cols: number): Result<void>;
  /** sendmsg(sock, iov = [name], SCM_RIGHTS = [fd]): one message, one descriptor. */
  sendFd(sock: number, fd: number, name: string): Result<void>;
  /**
   * recvmsg(sock) of one such message of one byte: the descriptor it carries
   * (close-on-exec). EBADMSG: the peer sent no descriptor, or more than one;
   * ENODATA: the stream ended.
   */
  recvFd(sock: number): Result<number>;
  dup2(from: number, to: number): Result<void>;
}

export const createTerminalLibc: (koffi?: Koffi) => TerminalLibc = libcGroup('terminal', (c, errno, koffi) => {
  const socket = lazyFunc(c, 'int socket(int domain, int type, int protocol)');
  const connect = lazyFunc(c, 'int connect(int fd, void *addr, unsigned int len)');
  const close = lazyFunc(c, 'int close(int fd)');
  const ioctl = lazyFunc(c, 'int ioctl(int fd, unsigned long request, void *arg)');
  const sendmsg = lazyFunc(c, 'long sendmsg(int fd, void *msg, int flags)');
  const recvmsg = lazyFunc(c, 'long recvmsg(int fd, void *msg, int flags)');

  /**
   * msghdr, iovec, the control message and the data in one block of C memory
   * (msghdr holds their addresses, which a Node Buffer does not have), laid
   * out for LP64: msghdr at 0 (name, namelen, iov, iovlen, control,
   * controllen, flags), iovec at 56, cmsghdr at 72 (CMSG_SPACE(sizeof(int))
   * = 24 bytes), the data at 96.
   */
  const withMessage = <T>(data: Buffer, fn: (mem: unknown, b: Buffer) => T): T => {
    const size = 96 + data.length;
    const mem = koffi.alloc('uint8_t', size);
    try {
      const base = koffi.address(mem);
      const b = Buffer.from(koffi.view(mem, size));
      b.fill(0);
      b.writeBigUInt64LE(base + 56n, 16); // msg_iov
      b.writeBigUInt64LE(1n, 24); // msg_iovlen
      b.writeBigUInt64LE(base + 72n, 32); // msg_control
      b.writeBigUInt64LE(24n, 40); // msg_controllen
      b.writeBigUInt64LE(base + 96n, 56); // iov_base
      b.writeBigUInt64LE(BigInt(data.length), 64); // iov_len
      data.copy(b, 96);
      return fn(mem, b);
    } finally {
      koffi.free(mem);
    }
  };
  const dup2 = lazyFunc(c, 'int dup2(int from, int to)');

  return {
    connectUnix(path) {
      const bytes = Buffer.from(path);
      if (bytes.length > SUN_PATH_MAX) return fail(`connect(${path})`, ERRNO.ENAMETOOLONG);
      const addr = Buffer.alloc(SIZEOF.struct_sockaddr_un);
      addr.writeUInt16LE(AF_UNIX, 0);
      bytes.copy(addr, 2);
      const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd === -1) return fail('socket', errno());
      if (connect(fd, addr, 2 + bytes.length + 1) === -1) {
        const e = errno();
        close(fd);
        return fail(`connect(${path})`, e);
      }
      return ok(fd);
    },
    openPty() {
      let master: number;
      try {
        master = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
      } catch (e) {
        const n = (e as NodeJS.ErrnoException).errno; // negative in Node
        return fail('open(/dev/ptmx)', n ? Math.abs(n) : 5 /* EIO */);
      }
      const n = Buffer.alloc(4);
      if (ioctl(master, TIOCSPTLCK, n) === -1 || ioctl(master, TIOCGPTN, n) === -1) {
        const e = errno();
        close(master);
        return fail('ioctl(/dev/ptmx)', e);
      }
      return ok({ master, slave: `/dev/pts/${n.readUInt32LE(0)}` });
    },
    setWindowSize(fd, rows, cols) {
      const ws = Buffer.alloc(SIZEOF.struct_winsize);
      ws.writeUInt16LE(rows, 0);
      ws.writeUInt16LE(cols, 2);
      return ioctl(fd, TIOCSWINSZ, ws) === -1 ? fail('ioctl(TIOCSWINSZ)', errno()) : ok(undefined);
    },
    sendFd(sock, fd, name) {
      return withMessage(Buffer.from(name), (mem, b) => {
        // The control message: len = CMSG_LEN(sizeof(int)), level, type, the descriptor.
        b.writeBigUInt64LE(20n, 72);
        b.writeInt32LE(SOL_SOCKET, 80);
        b.writeInt32LE(SCM_RIGHTS, 84);
        b.writeInt32LE(fd, 88);
        for (;;) {
          const rc = Number(sendmsg(sock, mem, MSG_NOSIGNAL));
          if (rc !== -1) return ok(undefined);
          const e = errno();
          if (e !== ERRNO.EINTR) return fail('sendmsg(SCM_RIGHTS)', e);
        }
      });
    },
    recvFd(sock) {
      return withMessage(Buffer.alloc(1), (mem, b) => {
        for (;;) {
          const rc = Number(recvmsg(sock, mem, MSG_CMSG_CLOEXEC));
          if (rc === -1) {
            const e = errno();
            if (e === ERRNO.EINTR) continue;
            return fail('recvmsg(SCM_RIGHTS)', e);
          }
          if (rc === 0) return fail('recvmsg(SCM_RIGHTS)', ERRNO.ENODATA);
          const one = b.readBigUInt64LE(40) >= 20n && b.readBigUInt64LE(72) === 20n && b.readInt32LE(80) === SOL_SOCKET && b.readInt32LE(84) === SCM_RIGHTS;
          if (!one || (b.readInt32LE(48) & MSG_CTRUNC) !== 0) {
            // A descriptor that did come (a truncated list) is not kept open.
            if (b.readBigUInt64LE(40) >= 20n && b.readInt32LE(84) === SCM_RIGHTS) close(b.readInt32LE(88));
            return fail('recvmsg(SCM_RIGHTS)', ERRNO.EBADMSG);
          }
          return ok(b.readInt32LE(88));
        }
      });
    },
    dup2: (from, to) => (dup2(from, to) === -1 ? fail(`dup2(${from}, ${to})`, errno()) : ok(undefined)),
  };
});
