/**
 * `tini-ts run` takes the init's stop policy (--map, --stop-scope,
 * --exit-on-stop, --pre-stop, --stop-delay) to the init inside the
 * container, and the launcher's backstop leaves it the time it asks for.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canRun, RUN_NEEDS, expectNothingLeftBehind, hasSyncReturn, run, start, tmpFile, waitFor } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

/** A shell loop that stays interruptible (a trap runs between short sleeps). */
const LOOP = 'while :; do sleep 0.05; done';

describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run: the stop policy', () => {
  expectNothingLeftBehind();

  it('--map USR1:USR2 rewrites a signal sent to the launcher; --map HUP:ignore drops one', async () => {
    const p = start(['--map', 'USR1:USR2', '--map', 'HUP:ignore', '--', 'sh', '-c',
      `trap "echo got USR1" USR1; trap "echo got USR2" USR2; trap "echo got TERM; exit 5" TERM; echo ready; ${LOOP}`]);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    p.child.kill('SIGUSR1');
    expect(await waitFor(() => p.out().includes('got USR2'))).toBe(true);
    // Without the map, SIGHUP would end sh (no trap): it must still be there to answer SIGTERM.
    p.child.kill('SIGHUP');
    p.child.kill('SIGTERM');
    const res = await p.done;
    expect(res.code).toBe(5);
    expect(res.stdout).not.toContain('got USR1');
    expect(res.stdout).toContain('got TERM');
  });

  it('--exit-on-stop 0: a program the forwarded SIGTERM ends exits 0; a crash keeps its code', async () => {
    const p = start(['--exit-on-stop', '0', '--', 'sh', '-c', `echo ready; ${LOOP}`]);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    const crash = run(['--exit-on-stop', '0', '--', 'sh', '-c', 'exit 3']);
    expect(crash.status, hasSyncReturn(crash)).toBe(3);
  });

  it('--pre-stop runs in the container before the stop is forwarded', async () => {
    const log = tmpFile('order');
    fs.writeFileSync(log, '');
    const p = start(['--pre-stop', `echo pre-stop >> ${log}`, '--', 'sh', '-c', `trap "echo term >> ${log}; exit 4" TERM; echo ready; ${LOOP}`]);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(4);
    expect(fs.readFileSync(log, 'utf8')).toBe('pre-stop\nterm\n');
  });

  it.each([
    ['all', 'daemon stopped'],
    ['group', ''],
  ] as const)('--stop-scope %s: a double-forked daemon (re-parented to the init) gets SIGTERM before the end?', async (scope, expected) => {
    const log = tmpFile('daemon');
    fs.writeFileSync(log, '');
    const daemon = `trap "echo daemon stopped >> ${log}; exit 0" TERM; echo daemon up >> ${log}; ${LOOP}`;
    const p = start(['--stop-scope', scope, '--grace', '5s', '--', 'sh', '-c',
      `(setsid sh -c '${daemon}' &); trap "exit 3" TERM; echo ready; ${LOOP}`]);
    expect(await waitFor(() => p.out().includes('ready') && fs.readFileSync(log, 'utf8').includes('daemon up'))).toBe(true);
    p.child.kill('SIGTERM');
    const res = await p.done;
    expect(res.code).toBe(3);
    // Under `group` the daemon is SIGKILLed with the cgroup when the init ends: it never writes.
    expect(fs.readFileSync(log, 'utf8')).toBe(`daemon up\n${expected ? `${expected}\n` : ''}`);
  });

  it('--stop-delay: the launcher does not kill what the init still holds back', async () => {
    // grace 300ms: without the delay in its allowance the backstop (grace + 2s) would kill at ~2.3s, before the 3s delay ends.
    const p = start(['--stop-delay', '3', '--grace', '300ms', '--', 'sh', '-c', `trap "echo got TERM; exit 6" TERM; echo ready; ${LOOP}`]);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    p.child.kill('SIGTERM');
    const res = await p.done;
    expect(res.code).toBe(6);
    expect(res.stdout).toContain('got TERM');
  });

  it.each([
    [['--stop-scope', 'some'], /^tini-ts run: --stop-scope: not group or all: 'some'$/],
    [['--map', 'KILL:TERM'], /^tini-ts run: --map: SIGKILL cannot be mapped$/],
    [['--exit-on-stop', '256'], /^tini-ts run: --exit-on-stop: not an exit code/],
    [['--stop-delay', 'soon'], /^tini-ts run: --stop-delay: not a number of seconds/],
    [['--pre-stop', ' '], /^tini-ts run: --pre-stop needs a command$/],
  ])('bad value %j: one line, exit 125, nothing started', (args, line) => {
    const r = run([...args, '--', 'true']);
    expect(r.status, hasSyncReturn(r)).toBe(125);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  });
});
