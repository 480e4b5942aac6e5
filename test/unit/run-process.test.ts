import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLibc } from '../../src/libc/libc.js';
import { decodeWaitStatus, type Libc } from '../../src/libc/types.js';
import { findProgram, mergeEnv, parseEnvFile, resolveCredentials, withHome } from '../../src/runtime/process.js';
import { unmet } from '../helpers/prereq.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n';
const group = 'root:x:0:\ntty:x:5:app\nstaff:x:50:\napp:x:1000:\n';

describe("the workload's process, completed inside the container", () => {
  it('looks users and groups up as docker does', () => {
    expect(resolveCredentials({ user: null, groupAdd: [] }, passwd, group)).toEqual({ uid: 0, gid: 0, groups: [], home: '/root' });
    expect(resolveCredentials({ user: { user: 'app', group: null }, groupAdd: ['staff'] }, passwd, group)).toEqual({ uid: 1000, gid: 1000, groups: [5, 50], home: '/home/app' });
    expect(resolveCredentials({ user: { user: '4242', group: '7' }, groupAdd: [] }, passwd, group)).toEqual({ uid: 4242, gid: 7, groups: [], home: null });
    expect(resolveCredentials({ user: { user: 'ghost', group: null }, groupAdd: [] }, passwd, group)).toMatch(/no user 'ghost'/);
    expect(resolveCredentials({ user: { user: '0', group: 'ghosts' }, groupAdd: [] }, passwd, group)).toMatch(/no group 'ghosts'/);
  });

  it('refuses uids and gids outside 0..2^32-2, given or read from the image, instead of wrapping them to root', () => {
    const r = (user: string, g: string | null, add: string[] = [], pw = passwd, gr = group) => resolveCredentials({ user: { user, group: g }, groupAdd: add }, pw, gr);
    expect(r('4294967294', '4294967294', ['4294967294'])).toEqual({ uid: 4294967294, gid: 4294967294, groups: [4294967294], home: null });
    expect(r('4294967295', null)).toBe('user 4294967295 is outside 0..4294967294 (the kernel\'s range; -1 means "unchanged")');
    expect(r('4294967296', null)).toMatch(/^user 4294967296 is outside 0\.\.4294967294 /);
    expect(r('18446744073709551616', null)).toMatch(/^user 18446744073709551616 is outside/);
    expect(r('0', '4294967295')).toMatch(/^--user: group 4294967295 is outside/);
    expect(r('0', null, ['4294967296'])).toMatch(/^--group-add: group 4294967296 is outside/);
    // Zeros in front are the same number (as docker's strconv.Atoi reads them).
    expect(r('0001000', null)).toMatchObject({ uid: 1000, gid: 1000, home: '/home/app' });
    const pw = passwd + 'big:x:4294967296:0::/:/bin/sh\nbiggid:x:7:4294967295::/:/bin/sh\n';
    const gr = group + 'huge:x:4294967296:app\n';
    expect(r('big', null, [], pw)).toMatch(/^the container's \/etc\/passwd gives user 'big' the uid 4294967296 is outside/);
    expect(r('biggid', null, [], pw)).toMatch(/^the container's \/etc\/passwd gives user 'biggid' the gid 4294967295 is outside/);
    expect(r('root', 'huge', [], pw, gr)).toMatch(/gives group 'huge' the gid 4294967296 is outside/);
    expect(r('0', null, ['huge'], pw, gr)).toMatch(/gives group 'huge' the gid 4294967296 is outside/);
    // A member of a group whose gid is out of range: refused, not skipped.
    expect(r('app', null, [], pw, gr)).toMatch(/lists user 'app' in group 'huge' with the gid 4294967296 is outside/);
    // A numeric uid never matches an entry by wrapping: 0 is not 'big'.
    expect(r('0', null, [], pw)).toEqual({ uid: 0, gid: 0, groups: [], home: '/root' });
  });

  it('sets HOME unless given', () => {
    expect(withHome(['PATH=/bin'], '/root')).toEqual(['PATH=/bin', 'HOME=/root']);
    expect(withHome(['HOME=/x'], '/root')).toEqual(['HOME=/x']);
    expect(withHome([], null)).toEqual(['HOME=/']);
  });

  it("finds the program along the container's PATH", () => {
    const have = new Set(['/bin/sh', '/usr/bin/env', '/work/run.sh']);
    const isExec = (p: string) => have.has(p);
    expect(findProgram('sh', ['PATH=/usr/bin:/bin'], '/', isExec)).toBe('/bin/sh');
    expect(findProgram('env', null, '/', isExec)).toBe('/usr/bin/env');
    expect(findProgram('./run.sh', null, '/work', isExec)).toBe('/work/run.sh');
    expect(findProgram('nothere', null, '/', isExec)).toBeNull();
  });

  it('reads env files and merges, later values winning', () => {
    expect(parseEnvFile('# c\nA=1\n\nB\nC=x=y\n', 'f', { B: '2' })).toEqual(['A=1', 'B=2', 'C=x=y']);
    expect(parseEnvFile('bad name=1\n', 'f', {})).toMatch(/f:1/);
    expect(mergeEnv(['PATH=/bin', 'A=1'], ['A=2'])).toEqual(['PATH=/bin', 'A=2']);
  });
});

function realLibc(): Libc | null {
  try {
    return createLibc();
  } catch {
    return null; // no FFI addon here
  }
}
const libc = realLibc();

describe.skipIf(unmet(libc !== null, 'the real libc through koffi'))("the workload's spawn (libc.ts's, with file, cwd and env)", () => {
  it('runs FILE with the given argv[0], in cwd, with exactly the given environment', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-spawn-'));
    try {
      const out = path.join(dir, 'out');
      const r = libc!.spawn({
        file: '/bin/sh',
        argv: ['workload-sh', '-c', `{ echo "$0"; pwd; echo "$X"; env | grep -vE '^(PWD|SHLVL|_)=' | sort; } > ${out}`].map((a) => Buffer.from(a)),
        env: [Buffer.from('X=one two'), Buffer.from('Y=\xff')],
        cwd: dir,
        newProcessGroup: true,
        foregroundTty: false,
        passFds: [0, 1, 2],
      });
      expect(r.ok).toBe(true);
      const w = libc!.waitpid((r as { value: number }).value, 0);
      expect(w.ok && decodeWaitStatus(w.value[1])).toEqual({ kind: 'exited', code: 0 });
      expect(fs.readFileSync(out, 'utf8').split('\n')).toEqual(['workload-sh', fs.realpathSync(dir), 'one two', 'X=one two', 'Y=\xff', '']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a FILE that does not exist, or a missing cwd, is the spawn\'s error', () => {
    const base = { argv: [Buffer.from('x')], newProcessGroup: true, foregroundTty: false, passFds: [0, 1, 2] };
    expect(libc!.spawn({ ...base, file: '/nonexistent/prog', env: [] })).toMatchObject({ ok: false, call: 'posix_spawnp', code: 'ENOENT' });
    expect(libc!.spawn({ ...base, file: '/bin/true', cwd: '/nonexistent/dir' })).toMatchObject({ ok: false, code: 'ENOENT' });
  });
});
