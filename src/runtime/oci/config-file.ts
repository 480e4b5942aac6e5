/** Reading config.json safely (the launcher's plan and the binary's early spawn both read it). */
import fs from 'node:fs';
import type { ErrnoName } from '../../libc/errno.js';
import { failed, type Outcome } from '../../libc/error.js';
import { ok } from '../../libc/types.js';

/** Larger than any real config.json (runc spec writes 3 KiB); a bound so that a huge file cannot exhaust the launcher. */
export const CONFIG_MAX_BYTES = 4 * 1024 * 1024;

/**
 * config.json's text, from a regular file of at most CONFIG_MAX_BYTES only:
 * opened non-blocking (a FIFO must not hang the launcher) and checked on the
 * descriptor (a link to /dev/zero must not be read to the end).
 */
export function readConfigFile(file: string): Outcome<string> {
  const where = { field: `--bundle: ${file}` };
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code as ErrnoName;
    return failed(`cannot open: ${code}`, { ...where, call: 'open', errno: code });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return failed('not a regular file', where);
    if (st.size > CONFIG_MAX_BYTES) return failed(`${st.size} bytes, more than the ${CONFIG_MAX_BYTES / 1024 / 1024} MiB a config.json may have`, where);
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (let r; n < buf.length && (r = fs.readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > st.size) return failed('it grew while being read', where);
    return ok(buf.subarray(0, n).toString('utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code as ErrnoName;
    return failed(`cannot read: ${code}`, { ...where, call: 'read', errno: code });
  } finally {
    fs.closeSync(fd);
  }
}
