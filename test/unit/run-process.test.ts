import { describe, expect, it } from 'vitest';
import { findProgram, mergeEnv, parseEnvFile, resolveCredentials, withHome } from '../../src/runtime/process.js';

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
