/** The fake must behave like the kernel where the tests rely on it. */
import { describe, expect, it } from 'vitest';
import { FakeLibc, errnoNumber } from '../helpers/fake-libc.js';
import { SIG } from '../../src/libc/signals.js';
import { CLD_EXITED, CLD_KILLED, WEXITED, WNOHANG, WNOWAIT, exitedStatus, signaledStatus, type SpawnRequest } from '../../src/libc/types.js';

const req = (name = 'app'): SpawnRequest => ({ argv: [Buffer.from(name)], newProcessGroup: true, foregroundTty: false, passFds: [] });

describe('FakeLibc', () => {
  it('waitpid(-1, WNOHANG): ECHILD without children, [0, 0] with none exited, then each zombie in exit order', () => {
    const libc = new FakeLibc();
    expect(libc.waitpid(-1, WNOHANG)).toMatchObject({ ok: false, code: 'ECHILD', errno: 10, call: 'waitpid' });
    const a = (libc.spawn(req()) as { value: number }).value;
    const b = libc.addProcess(a).pid;
    expect(libc.waitpid(-1, WNOHANG)).toEqual({ ok: true, value: [0, 0] });
    libc.exit(b, exitedStatus(3));
    libc.exit(a, signaledStatus(SIG.TERM));
    expect(libc.waitpid(-1, WNOHANG)).toEqual({ ok: true, value: [b, exitedStatus(3)] });
    expect(libc.waitpid(-1, WNOHANG)).toEqual({ ok: true, value: [a, signaledStatus(SIG.TERM)] });
    expect(libc.waitpid(-1, WNOHANG)).toMatchObject({ ok: false, code: 'ECHILD' });
  });

  it('kill(-pgid): delivers to every member; ESRCH once the group is reaped; zombies still count', () => {
    const libc = new FakeLibc();
    const leader = (libc.spawn(req()) as { value: number }).value;
    const member = libc.addProcess(leader);
    expect(libc.kill(-leader, SIG.HUP)).toEqual({ ok: true, value: undefined });
    expect(member.received).toEqual([SIG.HUP]);
    expect(libc.processes.get(leader)!.received).toEqual([SIG.HUP]);
    libc.exit(leader, exitedStatus(0));
    libc.exit(member.pid, exitedStatus(0));
    expect(libc.kill(-leader, 0).ok).toBe(true); // zombies are still in the group
    libc.waitpid(-1, WNOHANG);
    libc.waitpid(-1, WNOHANG);
    expect(libc.kill(-leader, 0)).toMatchObject({ ok: false, code: 'ESRCH', call: 'kill' });
    expect(libc.kill(leader, SIG.TERM)).toMatchObject({ ok: false, code: 'ESRCH' });
    expect(libc.kill(-4242, SIG.TERM)).toMatchObject({ ok: false, code: 'ESRCH' });
  });

  it('SIGKILL always kills; other signals only through onSignal', () => {
    const libc = new FakeLibc();
    const p = libc.addProcess(1, (sig) => (sig === SIG.INT ? exitedStatus(130) : undefined));
    libc.kill(p.pid, SIG.TERM);
    expect(p.state).toBe('running');
    libc.kill(p.pid, SIG.INT);
    expect(p).toMatchObject({ state: 'zombie', status: exitedStatus(130) });
    const q = libc.addProcess(1);
    libc.kill(q.pid, SIG.KILL);
    expect(q).toMatchObject({ state: 'zombie', status: signaledStatus(SIG.KILL) });
  });

  it('scripts failures by errno name, once or for good, and records every call', () => {
    const libc = new FakeLibc().failNext('spawn', 'ENOEXEC').failAlways('setParentDeathSignal', 'EPERM');
    expect(libc.spawn(req())).toEqual({ ok: false, call: 'posix_spawnp', errno: errnoNumber('ENOEXEC'), code: 'ENOEXEC' });
    expect(libc.spawn(req()).ok).toBe(true);
    expect(libc.setParentDeathSignal(9)).toMatchObject({ code: 'EPERM', errno: 1 });
    expect(libc.setParentDeathSignal(9)).toMatchObject({ code: 'EPERM' });
    libc.returnNext('tcgetpgrp', 77);
    expect(libc.tcgetpgrp(0)).toEqual({ ok: true, value: 77 });
    expect(libc.tcgetpgrp(0)).toMatchObject({ ok: false, code: 'ENOTTY' });
    expect(libc.calls.map((c) => c.name)).toEqual(['spawn', 'spawn', 'setParentDeathSignal', 'setParentDeathSignal', 'tcgetpgrp', 'tcgetpgrp']);
    expect(() => errnoNumber('ENOPE')).toThrow();
  });

  it('waitid peeks with WNOWAIT and reaps without it', () => {
    const libc = new FakeLibc();
    const p = libc.addProcess(1);
    const q = libc.addProcess(1);
    libc.exit(p.pid, exitedStatus(4));
    libc.exit(q.pid, signaledStatus(SIG.KILL));
    expect(libc.waitid(WEXITED | WNOHANG | WNOWAIT)).toEqual({ ok: true, value: { pid: p.pid, code: CLD_EXITED, status: 4 } });
    expect(libc.waitid(WEXITED | WNOHANG)).toEqual({ ok: true, value: { pid: p.pid, code: CLD_EXITED, status: 4 } });
    expect(libc.waitid(WEXITED | WNOHANG | WNOWAIT)).toEqual({ ok: true, value: { pid: q.pid, code: CLD_KILLED, status: SIG.KILL } });
    expect(libc.waitpid(q.pid, WNOHANG)).toEqual({ ok: true, value: [q.pid, signaledStatus(SIG.KILL)] });
    expect(libc.waitid(WEXITED | WNOHANG)).toMatchObject({ ok: false, code: 'ECHILD' });
  });
});
