/**
 * The linux/arm64 binary alone (no addon file beside it, nothing writable),
 * under qemu-user called explicitly: in a read-only directory, with /tmp and
 * /dev/shm noexec, as uid 65534 without capabilities, it runs its program,
 * with koffi's arm64 addon loaded from an anonymous memory file (Node >= 26).
 * With nothing writable at all (a 512-byte file size limit) it fails in one
 * line naming every attempt: the first case is not vacuous. The set-ups are
 * made in a private mount namespace; the host's mounts are never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_ENV, BIN, buildInfo, cleanup, launch, linkInto, tempDir } from '../helpers/proc.js';

afterEach(cleanup);

const ARM64 = path.join(path.dirname(BIN), 'tini-ts');
const QEMU = ['/usr/bin/qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'];

function alone(noWrite: boolean) {
  const dir = tempDir('tini-ts-arm64-', '/var/tmp');
  const bin = linkInto(ARM64, dir);
  expect(fs.readdirSync(dir)).toEqual(['tini-ts']);
  const script = `${noWrite ? 'ulimit -f 1\n' : ''}
mount -t tmpfs -o noexec,nosuid,mode=1777 tmpfs /tmp
mount -t tmpfs -o noexec,nosuid,mode=1777 tmpfs /dev/shm
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
unset TMPDIR XDG_RUNTIME_DIR || true
shift
exec setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs "$@"`;
  // The program prints its uid and the addon's mapping in the init (qemu's process: its parent).
  // As PID 1 of a new pid namespace (qemu-user 7.2 cannot make it a subreaper with -s).
  return launch('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-euc', script, 'sh', dir, ...QEMU, bin, '--',
    '/bin/sh', '-c', 'id -u; grep -o -E "/memfd:tini-ts-koffi \\(deleted\\)|/tmp/#[0-9]+ \\(deleted\\)" /proc/$PPID/maps | head -1; exit 5'], { env: BASE_ENV });
}

describe('linux/arm64 under qemu-user: the binary alone', () => {
  it('is an arm64 binary of this build', () => {
    expect(buildInfo().arch).toBe('arm64');
    const h = fs.readFileSync(ARM64).subarray(0, 20);
    expect(h.readUInt16LE(18)).toBe(183); // EM_AARCH64
  });

  // qemu-user maps the guest's code itself (no host PROT_EXEC), so a noexec mount does not stop the
  // O_TMPFILE route here as it would on arm64 hardware: Node 24 loads from /tmp, Node >= 26 from memory.
  it('read-only directory, noexec /tmp and /dev/shm, uid 65534: runs, the addon from memory (Node >= 26) or an unnamed file', async () => {
    const p = alone(false);
    const code = await p.exitCode();
    expect(code, p.stderr()).toBe(5);
    expect(p.stderr()).toBe('');
    const [uid, mapping] = p.stdout().split('\n');
    expect(uid).toBe('65534');
    expect(mapping).toMatch(buildInfo().ffi ? /^\/memfd:tini-ts-koffi \(deleted\)$/ : /^\/tmp\/#\d+ \(deleted\)$/);
  });

  it('nothing writable: exit 1, one line naming every attempt', async () => {
    const p = alone(true);
    expect(await p.exitCode()).toBe(1);
    expect(p.stdout()).toBe('');
    const err = p.stderr();
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err).toMatch(/cannot load the FFI addon \(koffi\.node\); tried \/var\/tmp\/tini-ts-arm64-\w+\/tini-ts-koffi-[0-9a-f]+\.node: not present; memfd_create: [^;]+; \/tmp: [^;]+; \/dev\/shm: /);
  });
});
