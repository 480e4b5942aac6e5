/** Linux errno numbers by name, so errors can be reported as `ENOENT` rather than 2. */

const NAMES = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC',
  9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 15: 'ENOTBLK',
  16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL',
  23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 26: 'ETXTBSY', 27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE',
  30: 'EROFS', 31: 'EMLINK', 32: 'EPIPE', 33: 'EDOM', 34: 'ERANGE', 36: 'ENAMETOOLONG', 38: 'ENOSYS',
  39: 'ENOTEMPTY', 40: 'ELOOP', 61: 'ENODATA', 74: 'EBADMSG', 75: 'EOVERFLOW', 88: 'ENOTSOCK', 95: 'EOPNOTSUPP', 104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED',
} as const;

/** An errno by name: one Linux knows here, or `E<n>` for a number without one. */
export type ErrnoName = (typeof NAMES)[keyof typeof NAMES] | `E${number}`;

const MESSAGES: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', ESRCH: 'No such process',
  EINTR: 'Interrupted system call', EIO: 'Input/output error', ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long', ENOEXEC: 'Exec format error', EBADF: 'Bad file descriptor',
  ECHILD: 'No child processes', EAGAIN: 'Resource temporarily unavailable', ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied', EFAULT: 'Bad address', EBUSY: 'Device or resource busy', EEXIST: 'File exists',
  ENOTDIR: 'Not a directory', EISDIR: 'Is a directory', EINVAL: 'Invalid argument', EMFILE: 'Too many open files',
  ENOTTY: 'Inappropriate ioctl for device', ETXTBSY: 'Text file busy', ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system', ENAMETOOLONG: 'File name too long', ENOSYS: 'Function not implemented',
  ELOOP: 'Too many levels of symbolic links', EOPNOTSUPP: 'Operation not supported',
};

export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, ENOEXEC: 8, EBADF: 9, ECHILD: 10, EAGAIN: 11,
  ENOMEM: 12, EACCES: 13, EINVAL: 22, ENOTTY: 25, ENXIO: 6, EROFS: 30, ENOSYS: 38, ENAMETOOLONG: 36,
  ENODATA: 61, EBADMSG: 74,
} as const;

export function errnoName(n: number): ErrnoName {
  return (NAMES as Readonly<Record<number, ErrnoName>>)[n] ?? `E${n}`;
}

export function errnoMessage(n: number): string {
  const name = errnoName(n);
  return MESSAGES[name] ?? name;
}

/** The failed Result of a call: its name, the errno, and the errno's name (every libc file reports failures this way). */
export function sysError(call: string, errno: number): { ok: false; call: string; errno: number; code: ErrnoName } {
  return { ok: false, call, errno, code: errnoName(errno) };
}
