/**
 * Where the FFI addon comes from: the tini-ts-koffi-<hash>.node file beside
 * the binary; else an unnamed O_TMPFILE copy of the SEA asset in $TMPDIR,
 * /tmp or /dev/shm; else one clear error naming every attempt. The noexec
 * and read-only set-ups are made in a private mount namespace
 * (`unshare --mount`), so the host's mounts are never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addonBeside, BASE_ENV, BIN, cleanup, launch, linkInto, Recorder, requireBinary, SIG, startInit, tempDir, type Mode,
} from '../helpers/proc.js';

beforeAll(() => requireBinary());
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

/** Runs a shell script as PID 1 of nothing special but in a private mount namespace. */
function inMountNs(script: string, args: string[], env: Record<string, string> = BASE_ENV) {
  return launch('unshare', ['--mount', '--propagation', 'private', 'sh', '-euc', script, 'sh', ...args], { env });
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

  it('the binary alone in a directory works: the addon is extracted to an unnamed temporary file', async () => {
    const alone = linkInto(BIN, tempDir('tini-ts-alone-'));
    expect(fs.readdirSync(path.dirname(alone))).toEqual(['tini-ts']);
    const r = await runAndMap(mode, alone);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.maps).toHaveLength(1);
    // O_TMPFILE: no name in the directory, shown by the kernel as "/tmp/#<inode> (deleted)".
    expect(r.maps[0]).toMatch(/^\/tmp\/#\d+ \(deleted\)$/);
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
    );
    const code = await p.exitCode();
    return { code, stderr: p.stderr(), stdout: p.stdout(), ran: fs.existsSync(marker), dir };
  }

  it('with TMPDIR, /tmp and /dev/shm noexec and no file beside: exit 1, the program never runs, every attempt is named', async () => {
    const r = await noexecNoBeside();
    expect(r.code, r.stderr).toBe(1);
    expect(r.ran).toBe(false);
    expect(r.stdout).toBe('');
    const hash = path.basename(addonBeside());
    expect(r.stderr).toContain(`${r.dir}/${hash}: not present`);
    for (const d of ['/tmp/tmpdir', '/tmp', '/dev/shm']) expect(r.stderr).toContain(`${d}: `);
    expect(r.stderr).toMatch(/failed to map segment/);
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

  it('the same read-only, noexec set-up without the file beside fails as uid 65534 (the test above is not vacuous)', async () => {
    const dir = varTmp();
    const bin = linkInto(BIN, dir);
    const p = inMountNs(
      `${NOEXEC_TMP}
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
unset TMPDIR XDG_RUNTIME_DIR || true
exec setpriv --reuid 65534 --regid 65534 --clear-groups "$2" -s -- /bin/sh -c 'exit 5'`,
      [dir, bin],
    );
    expect(await p.exitCode()).toBe(1);
    expect(p.stderr()).toMatch(/cannot load the FFI addon/);
  });
});
