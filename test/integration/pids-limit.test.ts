/**
 * The plain init under a tight pids limit (cgroup v1 `pids`, as `docker run
 * --pids-limit N` sets it): a shell joins a pids cgroup of the test's own,
 * then execs the init. Node's main thread and its two helper threads count
 * as tasks: with 4 the program runs; with 3 the init runs but the program
 * cannot, and one line says which limit and what is needed; below that Node
 * itself stops before any JavaScript runs (pinned here: if it changes, the
 * README's Deployment section must change too). Every case has a timeout,
 * the processes are killed by pid, and the cgroup is removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanup, isDead, launch, procStatus, requireBinary, tempDir, waitFor, type Launched } from '../helpers/proc.js';

const PIDS_ROOT = '/sys/fs/cgroup/pids';
const made: string[] = [];

beforeAll(() => {
  requireBinary();
  if (!fs.existsSync(path.join(PIDS_ROOT, 'cgroup.procs'))) throw new Error(`${PIDS_ROOT} is not a cgroup v1 pids hierarchy: these tests need one`);
});

afterEach(async () => {
  await cleanup();
  for (const dir of made.splice(0)) {
    await waitFor(() => {
      try {
        fs.rmdirSync(dir);
        return true;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ENOENT';
      }
    }, `${dir} to be removed`);
  }
});

function pidsCgroup(max: number): string {
  const dir = path.join(PIDS_ROOT, `tini-ts-it-pids-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(dir);
  made.push(dir);
  fs.writeFileSync(path.join(dir, 'pids.max'), String(max));
  return dir;
}

/** `sh` joins the cgroup, then execs the init (its pid is the init's), whose program leaves a file. */
function initIn(cgroup: string, flags: (dir: string) => string[] = () => []): { proc: Launched; ran: string; dir: string } {
  const dir = tempDir('tini-ts-pids-');
  const ran = path.join(dir, 'ran');
  const prog = ['/bin/sh', '-c', `echo ran > ${ran}`];
  const script = `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`;
  const proc = launch('/bin/sh', ['-c', script, 'sh', BIN, '-s', ...flags(dir), '--', ...prog]);
  return { proc, ran, dir };
}

const eventsMax = (cgroup: string) => Number(/^max (\d+)/m.exec(fs.readFileSync(path.join(cgroup, 'pids.events'), 'utf8'))?.[1] ?? 0);

describe('the plain init under a pids limit', () => {
  it.each([4, 5])('pids.max %i: the program runs, exit 0, and the init never asked for another task', async (max) => {
    const cg = pidsCgroup(max);
    // With the event stream on (file writes, the reap peek): still no thread pool, no new thread.
    const { proc, ran, dir } = initIn(cg, (d) => ['--events', path.join(d, 'events.jsonl')]);
    expect(await proc.exitCode(30_000), proc.stderr()).toBe(0);
    expect(fs.existsSync(ran)).toBe(true);
    expect(proc.stderr()).toBe('');
    expect(eventsMax(cg)).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'events.jsonl'), 'utf8')).toMatch(/"event":"exit"/);
  });

  it('pids.max 3: the init runs, the program cannot; one FATAL line names the limit and the least that works, exit 1', async () => {
    const cg = pidsCgroup(3);
    const { proc, ran } = initIn(cg);
    expect(await proc.exitCode(30_000)).toBe(1);
    expect(fs.existsSync(ran)).toBe(false);
    const lines = proc.stderr().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[FATAL tini-ts \(\d+\)\] exec \/bin\/sh failed: Resource temporarily unavailable \(EAGAIN\): the pids limit is reached/);
    expect(lines[0]).toContain(`(${cg}/pids.max: 3, 3 in use)`);
    expect(lines[0]).toContain('the init takes 3 tasks');
    expect(lines[0]).toContain('pids.max must be at least 4');
  });

  // Node's limits, not the init's: nothing of tini-ts has run yet (README, Deployment).
  it('pids.max 2: Node waits forever for the helper thread it could not create (pinned Node limitation)', async () => {
    const cg = pidsCgroup(2);
    const { proc, ran } = initIn(cg);
    // Once the kernel refused a task, Node 24's platform start-up waits for it for good.
    await waitFor(() => eventsMax(cg) >= 1, 'a refused task in the pids cgroup', { timeoutMs: 30_000 });
    await waitFor(() => procStatus(proc.pid).Threads === '2', 'the init to hold its 2 tasks', { timeoutMs: 30_000 });
    expect(proc.exited).toBeUndefined();
    expect(fs.existsSync(ran)).toBe(false);
    process.kill(proc.pid, 'SIGKILL');
    await proc.waitExit(30_000);
    expect(isDead(proc.ref)).toBe(true);
  });

  it('pids.max 1: Node aborts before any JavaScript runs (pinned Node limitation)', async () => {
    const cg = pidsCgroup(1);
    const { proc, ran } = initIn(cg);
    const e = await proc.waitExit(30_000);
    expect(e.signal).toBe('SIGABRT');
    expect(proc.stderr()).toContain('DelayedTaskScheduler');
    expect(fs.existsSync(ran)).toBe(false);
  });
});
