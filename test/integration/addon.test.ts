/**
 * Where the FFI addon comes from: the tini-ts-koffi-<hash>.node file beside
 * the binary; else an anonymous memory file (memfd_create through node:ffi,
 * when the binary's Node has it: Node >= 26); else an unnamed O_TMPFILE copy
 * of the SEA asset in $TMPDIR, /tmp or /dev/shm; else one clear error naming
 * every attempt. The noexec and read-only set-ups are made in a private mount
 * namespace (`unshare --mount`), so the host's mounts are never touched.
 * (vm.memfd_noexec=2 would not refuse the memory file: it stops execve, not
 * mmap; what makes every route fail below is a file size limit of 512 bytes,
 * which stops writing the addon anywhere.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addonBeside, BASE_ENV, BIN, buildInfo, cleanup, launch, linkInto, Recorder, requireBinary, SIG, startInit, tempDir, type Mode,
} from '../helpers/proc.js';

beforeAll(() => requireBinary());
/** Whether the binary's Node has node:ffi, so the addon can come from memory. */
const ffi = () => buildInfo().ffi;
afterEach(cleanup);

/** The init's mappings of the addon: file names of mapped objects that look like it. */
function addonMappings(pid: number): string[] {
  const out = new Set<string>();
  for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const file = line.split(/\s+/).slice(5).join(' ');
    if (/koffi|\(deleted\)/.test(file) && !file.includes('[')) out.add(file);
  }
  return [...out];
}

async function runAndMap(mode: Mode, bin: string) {
  const rec = new Recorder();
  const init = startInit({ mode, bin, prog: rec.argv({ grandchild: true }) });
  await rec.ready(10_000, () => init.stderr());
  const maps = addonMappings(await init.pid());
  await init.signal(SIG.USR2);
  await rec.waitSignal('main', SIG.USR2);
  await rec.waitSignal('grand', SIG.USR2);
  rec.release();
  const code = await init.exitCode();
  return { maps, code, stderr: init.stderr() };
}

/** A directory outside /tmp (which the noexec tests hide), removed at cleanup. */
const varTmp = () => tempDir('tini-ts-addon-', '/var/tmp');

/** Runs a shell script in a private mount namespace; with `noWrite`, under a 512-byte file size limit. */
function inMountNs(script: string, args: string[], { env = BASE_ENV, noWrite = false } = {}) {
  const pre = noWrite ? 'ulimit -f 1\n' : '';
  return launch('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', pre + script, 'sh', ...args], { env });
}

const NOEXEC_TMP = `
mount -t tmpfs -o noexec,nosuid,mode=1777 tmpfs /tmp
mount -t tmpfs -o noexec,nosuid,mode=1777 tmpfs /dev/shm
`;

describe.each<Mode>(['sub', 'pid1'])('addon loading (%s)', (mode) => {
  it('with the addon beside the binary, that file is loaded', async () => {
    const r = await runAndMap(mode, BIN);
    expect(r.code).toBe(0);
    expect(r.maps).toEqual([fs.realpathSync(addonBeside())]);
  });

  it('the binary alone in a directory works: the addon comes from memory (Node >= 26) or an unnamed temporary file', async () => {
    const alone = linkInto(BIN, tempDir('tini-ts-alone-'));
    expect(fs.readdirSync(path.dirname(alone))).toEqual([path.basename(BIN)]);
    const r = await runAndMap(mode, alone);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.maps).toHaveLength(1);
    // memfd: "/memfd:<name> (deleted)"; O_TMPFILE: no name in the directory, "/tmp/#<inode> (deleted)".
    expect(r.maps[0]).toMatch(ffi() ? /^\/memfd:tini-ts-koffi \(deleted\)$/ : /^\/tmp\/#\d+ \(deleted\)$/);
  });
});

describe('addon loading: nowhere to put it', () => {
  async function noexecNoBeside() {
    const dir = varTmp();
    const alone = linkInto(BIN, dir);
    const marker = path.join(dir, 'ran');
    const p = inMountNs(
      `${NOEXEC_TMP}
mkdir /tmp/tmpdir
export TMPDIR=/tmp/tmpdir
unset XDG_RUNTIME_DIR || true
exec "$1" -s -- /bin/sh -c 'touch "$0"' "$2"`,
      [alone, marker],
      { noWrite: true },
    );
    const code = await p.exitCode();
    return { code, stderr: p.stderr(), stdout: p.stdout(), ran: fs.existsSync(marker), dir };
  }

  it('with no file beside and nowhere the addon can be written (TMPDIR, /tmp and /dev/shm noexec too): exit 1, the program never runs, every attempt is named', async () => {
    const r = await noexecNoBeside();
    expect(r.code, r.stderr).toBe(1);
    expect(r.ran).toBe(false);
    expect(r.stdout).toBe('');
    const hash = path.basename(addonBeside());
    expect(r.stderr).toContain(`${r.dir}/${hash}: not present; memfd_create: `);
    expect(r.stderr).toMatch(ffi() ? /memfd_create: EFBIG/ : /memfd_create: Node v\d+\.\d+\.\d+ has no node:ffi/);
    for (const d of ['/tmp/tmpdir', '/tmp', '/dev/shm', '/dev']) expect(r.stderr).toContain(`; ${d}: `);
    expect(r.stderr).toMatch(/\/dev\/shm: EFBIG/);
    expect(r.stderr).toMatch(/; \/dev: EFBIG/);
  });

  // (Before a fix made during this suite's writing, Node's uncaught-exception
  // report came out here: the minified source line, a caret and a stack trace.)
  it('... and says so in exactly one line on stderr', async () => {
    const r = await noexecNoBeside();
    expect(r.code).toBe(1);
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.slice(0, -1).split('\n')).toHaveLength(1);
    expect(r.stderr.length).toBeLessThan(1_000);
  });

  it('with the addon beside the binary in a read-only directory, it runs as uid 65534 (noexec /tmp, /dev/shm)', async () => {
    const dir = varTmp();
    const bin = linkInto(BIN, dir);
    linkInto(addonBeside(), dir);
    const p = inMountNs(
      `${NOEXEC_TMP}
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
if touch "$1/writable" 2>/dev/null; then echo "$1 is writable" >&2; exit 70; fi
unset TMPDIR XDG_RUNTIME_DIR || true
exec setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \\
  "$2" -s -- /bin/sh -c 'id -u; exit 5'`,
      [dir, bin],
    );
    const code = await p.exitCode();
    expect(code, p.stderr()).toBe(5);
    expect(p.stdout()).toBe('65534\n');
    expect(p.stderr()).toBe('');
  });

  /** The binary alone in a read-only directory, /tmp and /dev/shm noexec, as uid 65534 with no capabilities. */
  function readOnlyAlone(noWrite: boolean) {
    const dir = varTmp();
    const bin = linkInto(BIN, dir);
    return inMountNs(
      `${NOEXEC_TMP}
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
unset TMPDIR XDG_RUNTIME_DIR || true
exec setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \\
  "$2" -s -- /bin/sh -c 'id -u; exit 5'`,
      [dir, bin],
      { noWrite },
    );
  }

  it('the binary alone, read-only directory, noexec /tmp and /dev/shm, uid 65534: runs when its Node has node:ffi (the addon from memory), else fails naming every attempt', async () => {
    const p = readOnlyAlone(false);
    const code = await p.exitCode();
    if (ffi()) {
      expect(code, p.stderr()).toBe(5);
      expect(p.stdout()).toBe('65534\n');
      expect(p.stderr()).toBe('');
    } else {
      expect(code).toBe(1);
      expect(p.stderr()).toMatch(/cannot load the FFI addon/);
    }
  });

  it('the same set-up where nothing can be written fails as uid 65534 (the tests above are not vacuous)', async () => {
    const p = readOnlyAlone(true);
    expect(await p.exitCode()).toBe(1);
    expect(p.stderr()).toMatch(/cannot load the FFI addon \(koffi\.node\); tried .*: not present; memfd_create: /);
  });
});
