/**
 * System calls for namespaces, mounts and the network device the launcher
 * (`tini-ts run`) and its container init need. Kept apart from libc.ts so
 * the plain init never declares (or pays for) them. Every call returns a
 * Result carrying the errno by name.
 */
import type { Koffi } from './koffi-native.js';
import { lazyFunc, libcGroup } from './lazy.js';
import { sysError as fail } from './errno.js';
import {
  AF_INET, AF_UNIX, F_SETFD, FD_CLOEXEC, IFF_UP, MSG_NOSIGNAL, NS_GET_NSTYPE, OFFSETOF, PR, SIOCGIFFLAGS, SIOCSIFFLAGS, SIZEOF, SOCK_CLOEXEC,
  SOCK_DGRAM, SOCK_STREAM,
} from './consts.js';
import { ok, type Result } from './types.js';


export interface NsLibc {
  geteuid(): number;
  unshare(flags: number): Result<void>;
  setns(fd: number, nstype: number): Result<void>;
  /** ioctl(NS_GET_NSTYPE): the CLONE_NEW* type of a namespace file (ENOTTY: not a namespace). */
  nsType(fd: number): Result<number>;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): Result<void>;
  umount2(target: string, flags: number): Result<void>;
  sethostname(name: string): Result<void>;
  /** socket + ioctl(SIOCGIFFLAGS/SIOCSIFFLAGS): set IFF_UP on an interface. */
  interfaceUp(name: string): Result<void>;
  /** pipe2(flags): [read end, write end]. */
  pipe(flags: number): Result<[number, number]>;
  /**
   * socketpair(AF_UNIX, SOCK_STREAM | flags): two connected ends. The status
   * channel from the init is one: written with send(MSG_NOSIGNAL), a peer
   * that is gone gives EPIPE and never a SIGPIPE (which the init forwards).
   */
  socketpair(flags: number): Result<[number, number]>;
  /** send(fd, data, MSG_NOSIGNAL): the bytes sent (a socket whose peer is gone: EPIPE, no SIGPIPE). */
  sendNoSignal(fd: number, data: Buffer): Result<number>;
  /** _exit(2): no exit handlers, no teardown of Node's threads (the caller has nothing buffered). */
  exit(code: number): never;
  setCloexec(fd: number): Result<void>;
  close(fd: number): Result<void>;
  setParentDeathSignal(sig: number): Result<void>;
  /** statfs(2)'s f_flags for the mount holding PATH: ST_RDONLY, ST_NOSUID, ST_NODEV, ST_NOEXEC... (the MS_* values). */
  mountFlags(path: string): Result<number>;
}

export const createNsLibc: (koffi?: Koffi) => NsLibc = libcGroup('ns', (c, errno) => {
  const geteuid = lazyFunc(c, 'unsigned int geteuid(void)');
  const unshare = lazyFunc(c, 'int unshare(int flags)');
  const setns = lazyFunc(c, 'int setns(int fd, int nstype)');
  const mount = lazyFunc(c, 'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
  const umount2 = lazyFunc(c, 'int umount2(const char *target, int flags)');
  const sethostname = lazyFunc(c, 'int sethostname(const char *name, size_t len)');
  const socket = lazyFunc(c, 'int socket(int domain, int type, int protocol)');
  const ioctl = lazyFunc(c, 'int ioctl(int fd, unsigned long request, void *arg)');
  const close = lazyFunc(c, 'int close(int fd)');
  const statfs = lazyFunc(c, 'int statfs(const char *path, void *buf)');
  const pipe2 = lazyFunc(c, 'int pipe2(void *fds, int flags)');
  const socketpair = lazyFunc(c, 'int socketpair(int domain, int type, int protocol, void *fds)');
  const exit = lazyFunc(c, 'void _exit(int status)');
  const send = lazyFunc(c, 'long send(int fd, void *buf, unsigned long len, int flags)');
  const fcntl = lazyFunc(c, 'int fcntl(int fd, int cmd, int arg)');
  const prctl = lazyFunc(c, 'int prctl(int option, ...)');

  const check = (call: string, rc: number): Result<void> => (rc === -1 ? fail(call, errno()) : ok(undefined));

  return {
    geteuid: () => geteuid(),
    unshare: (flags) => check('unshare', unshare(flags)),
    setns: (fd, type) => check('setns', setns(fd, type)),
    nsType(fd) {
      const r = ioctl(fd, NS_GET_NSTYPE, null);
      return r === -1 ? fail('ioctl(NS_GET_NSTYPE)', errno()) : ok(r);
    },
    mount: (source, target, fstype, flags, data) => check(`mount(${target})`, mount(source, target, fstype, flags, data)),
    umount2: (target, flags) => check(`umount2(${target})`, umount2(target, flags)),
    sethostname(name) {
      const bytes = Buffer.from(name);
      return check('sethostname', sethostname(name, bytes.length));
    },
    interfaceUp(name): Result<void> {
      const fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd === -1) return fail('socket', errno());
      try {
        const ifr = Buffer.alloc(SIZEOF.struct_ifreq);
        ifr.write(name.slice(0, 15), 0, 'latin1');
        if (ioctl(fd, SIOCGIFFLAGS, ifr) === -1) return fail(`ioctl(SIOCGIFFLAGS, ${name})`, errno());
        ifr.writeUInt16LE(ifr.readUInt16LE(OFFSETOF.ifreq_ifr_flags) | IFF_UP, OFFSETOF.ifreq_ifr_flags);
        if (ioctl(fd, SIOCSIFFLAGS, ifr) === -1) return fail(`ioctl(SIOCSIFFLAGS, ${name})`, errno());
        return ok(undefined);
      } finally {
        close(fd);
      }
    },
    pipe(flags): Result<[number, number]> {
      const fds = Buffer.alloc(8);
      if (pipe2(fds, flags) === -1) return fail('pipe2', errno());
      return ok([fds.readInt32LE(0), fds.readInt32LE(4)]);
    },
    socketpair(flags): Result<[number, number]> {
      const fds = Buffer.alloc(8);
      if (socketpair(AF_UNIX, SOCK_STREAM | flags, 0, fds) === -1) return fail('socketpair', errno());
      return ok([fds.readInt32LE(0), fds.readInt32LE(4)]);
    },
    sendNoSignal(fd, data): Result<number> {
      const rc = Number(send(fd, data, data.length, MSG_NOSIGNAL));
      return rc === -1 ? fail('send', errno()) : ok(rc);
    },
    exit(code): never {
      exit(code);
      throw new Error('unreachable: _exit returned');
    },
    setCloexec: (fd) => check('fcntl(F_SETFD)', fcntl(fd, F_SETFD, FD_CLOEXEC)),
    close: (fd) => check('close', close(fd)),
    setParentDeathSignal: (sig) =>
      check('prctl(PR_SET_PDEATHSIG)', prctl(PR.SET_PDEATHSIG, 'unsigned long', sig, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0)),
    mountFlags(p) {
      const buf = Buffer.alloc(SIZEOF.struct_statfs);
      return statfs(p, buf) === -1 ? fail(`statfs(${p})`, errno()) : ok(Number(buf.readBigInt64LE(OFFSETOF.statfs_f_flags)));
    },
  };
});
