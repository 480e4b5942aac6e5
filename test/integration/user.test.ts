/**
 * --user: the program runs as the user (ids and supplementary groups from
 * the image's /etc/passwd and /etc/group, no capabilities left), the init
 * keeps its own ids. The image's files are bind-mounted over /etc inside the
 * test's own mount namespace (unshare --mount), never the machine's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanup, launch, procStatus, requireBinary, SIG, stagePublic, startInit, tempDir, waitFor } from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

/** The program: writes its own ids and capabilities, then waits for SIGTERM. */
function reporter(out: string): string[] {
  return ['sh', '-c', `grep -E '^(Uid|Gid|Groups|CapEff|CapPrm):' /proc/self/status > "$1.tmp"; mv "$1.tmp" "$1"; trap 'exit 0' TERM; while :; do sleep 0.05; done`, 'rep', out];
}

const field = (text: string, name: string) => (new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);

describe('--user', () => {
  it('as PID 1 with the image\'s own /etc: ids, primary and supplementary groups by name; no capabilities; the init stays root', async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o777);
    const out = path.join(dir, 'ids');
    fs.writeFileSync(path.join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345:app:/home/app:/bin/sh\n');
    fs.writeFileSync(path.join(dir, 'group'), 'root:x:0:\nappgrp:x:2345:\nstaff:x:3456:other,app\naudio:x:4567:app\nvideo:x:5678:other\n');
    const script = `d="$1"; b="$2"; shift 2; mount --bind "$d/passwd" /etc/passwd && mount --bind "$d/group" /etc/group && exec "$b" --user app -- "$@"`;
    const l = launch('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', script, 'setup', dir, BIN, ...reporter(out)]);
    await waitFor(() => fs.existsSync(out), 'the program to report its ids', { detail: () => l.stderr() });
    const text = fs.readFileSync(out, 'utf8');
    expect(field(text, 'Uid')).toEqual(['1234', '1234', '1234', '1234']);
    expect(field(text, 'Gid')).toEqual(['2345', '2345', '2345', '2345']);
    expect(field(text, 'Groups').sort()).toEqual(['3456', '4567']);
    expect(field(text, 'CapEff')).toEqual(['0000000000000000']);
    expect(field(text, 'CapPrm')).toEqual(['0000000000000000']);
    // The init (the child of unshare) keeps root's ids.
    const init = await waitFor(() => fs.readFileSync(`/proc/${l.pid}/task/${l.pid}/children`, 'utf8').trim().split(' ').map(Number)[0], 'the init');
    expect(field(Object.entries(procStatus(init)).map(([k, v]) => `${k}: ${v}`).join('\n'), 'Uid')).toEqual(['0', '0', '0', '0']);
    process.kill(init, SIG.TERM);
    expect(await l.exitCode()).toBe(0);
  });
});

describe('--user, numeric (subreaper)', () => {
  it('UID:GID that /etc/passwd does not know: those ids, no supplementary groups; TINI_USER too', async () => {
    for (const [flags, env] of [[['--user', '4321:8765'], {}], [[], { TINI_USER: '4321:8765' }]] as [string[], Record<string, string>][]) {
      const dir = tempDir();
      fs.chmodSync(dir, 0o777);
      const out = path.join(dir, 'ids');
      const init = startInit({ mode: 'sub', flags, env, prog: reporter(out) });
      await waitFor(() => fs.existsSync(out), 'the program to report its ids', { detail: () => init.stderr() });
      const text = fs.readFileSync(out, 'utf8');
      expect(field(text, 'Uid')).toEqual(['4321', '4321', '4321', '4321']);
      expect(field(text, 'Gid')).toEqual(['8765', '8765', '8765', '8765']);
      expect(field(text, 'Groups')).toEqual([]);
      expect(field(Object.entries(procStatus(await init.pid())).map(([k, v]) => `${k}: ${v}`).join('\n'), 'Uid')).toEqual(['0', '0', '0', '0']);
      await init.signal(SIG.TERM);
      expect(await init.exitCode()).toBe(0);
    }
  });
});

describe('--user, bad values and no root', () => {
  it('one line naming the flag, exit 1, nothing started', async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o777);
    const marker = path.join(dir, 'started');
    for (const [flags, pattern] of [
      [['--user', 'no-such-user-here'], /^tini-ts: --user: no user 'no-such-user-here' in the container's \/etc\/passwd\n$/],
      [['--user', 'nobody:no-such-group'], /^tini-ts: --user: no group 'no-such-group' in the container's \/etc\/group[^\n]*\n$/],
      [['--user', 'a:b:c'], /^tini-ts: --user: not USER\[:GROUP\]: 'a:b:c'[^\n]*\n$/],
      [['--user', '4294967295'], /^tini-ts: --user: user 4294967295 is outside[^\n]*\n$/],
    ] as [string[], RegExp][]) {
      const init = startInit({ mode: 'sub', flags, prog: ['touch', marker] });
      expect(await init.exitCode()).toBe(1);
      expect(init.stderr()).toMatch(pattern);
    }
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('an init that is not root: one FATAL line, exit 1, the program never runs', async () => {
    const staged = stagePublic(BIN);
    try {
      const dir = tempDir();
      fs.chmodSync(dir, 0o777);
      const marker = path.join(dir, 'started');
      const l = launch('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', staged.paths[0], '-s', '--user', '4321', '--', 'touch', marker]);
      expect(await l.exitCode()).toBe(1);
      expect(l.stderr()).toMatch(/^\[FATAL tini-ts \([0-9]+\)\] --user 4321:0: setgroups failed: EPERM \(running the program as another user needs root\)\n$/);
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      fs.rmSync(staged.dir, { recursive: true, force: true });
    }
  });
});
