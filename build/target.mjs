// What the build needs to know about a target architecture: the ELF machine
// of a binary, how to run that architecture's Node here (directly or under
// qemu-user with a sysroot of its libraries), and its strip.
import fs from 'node:fs';
import os from 'node:os';

/** Node's arch names by ELF e_machine (the only ones the binary is built for). */
const MACHINES = { 62: 'x64', 183: 'arm64' };

/** Per architecture: qemu-user, the sysroot Debian's cross packages install, the strip that knows the format. */
export const TARGETS = {
  x64: { release: 'amd64', qemu: 'qemu-x86_64-static', sysroot: '/usr/x86_64-linux-gnu', strip: ['strip', 'x86_64-linux-gnu-strip'] },
  arm64: { release: 'arm64', qemu: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu', strip: ['aarch64-linux-gnu-strip', 'llvm-strip'] },
};

/** The Node arch name of an ELF file (x64, arm64), or an error naming what it is. */
export function elfArch(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const h = Buffer.alloc(20);
    fs.readSync(fd, h, 0, 20, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) throw new Error(`${file}: not a 64-bit little-endian ELF file`);
    const arch = MACHINES[h.readUInt16LE(18)];
    if (!arch) throw new Error(`${file}: ELF machine ${h.readUInt16LE(18)} is not one tini-ts is built for (x64, arm64)`);
    return arch;
  } finally {
    fs.closeSync(fd);
  }
}

/** The words before a command of ARCH to run it on this machine: none, or qemu-user with the sysroot. */
export function qemuPrefix(arch) {
  if (arch === process.arch) return [];
  const t = TARGETS[arch];
  const qemu = ['/usr/bin', '/usr/local/bin'].map((d) => `${d}/${t.qemu}`).find((f) => fs.existsSync(f));
  if (!qemu) throw new Error(`${arch} binaries need ${t.qemu} on this ${os.arch()} machine (Debian: qemu-user-static)`);
  if (!fs.existsSync(`${t.sysroot}/lib/libc.so.6`)) {
    throw new Error(`${t.qemu} needs ${arch}'s libraries in ${t.sysroot} (Debian: libc6-${t.release}-cross libstdc++6-${t.release}-cross libatomic1-${t.release}-cross)`);
  }
  return [qemu, '-L', t.sysroot];
}
