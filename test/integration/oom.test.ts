/**
 * Why it ended, with a real OOM kill: the test makes a memory cgroup of its
 * own (uniquely named, removed after), starts the init in it, and the
 * program allocates past memory.limit_in_bytes. The termination log, the
 * stderr line and the exit event say the kernel OOM-killed it, with the
 * limit and the peak.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/events/validate.js';
import { BIN, cleanup, launch, requireBinary, ROOT, sleep, tempDir, UNSHARE_PID1, waitFor } from '../helpers/proc.js';

const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'src/events/events.schema.json'), 'utf8'));
const MEMORY_V1 = '/sys/fs/cgroup/memory';
const LIMIT = 128 * 1024 * 1024;
const made: string[] = [];

beforeAll(() => {
  requireBinary();
  if (!fs.existsSync(`${MEMORY_V1}/memory.oom_control`)) throw new Error(`${MEMORY_V1} (cgroup v1 memory controller) is needed for this test`);
});
afterEach(async () => {
  await cleanup();
  for (const dir of made.splice(0)) {
    // Anything still in it is ours: SIGKILL it, then remove the cgroup.
    for (const pid of fs.readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 9);
      } catch {
        // gone
      }
    }
    await waitFor(() => fs.readFileSync(`${dir}/cgroup.procs`, 'utf8').trim() === '', `${dir} to be empty`).catch(() => {});
    for (let i = 0; i < 50; i++) {
      try {
        fs.rmdirSync(dir);
        break;
      } catch {
        await sleep(20);
      }
    }
  }
});

function memoryCgroup(): string {
  const dir = `${MEMORY_V1}/tini-ts-it-oom-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.mkdirSync(dir);
  made.push(dir);
  fs.writeFileSync(`${dir}/memory.limit_in_bytes`, String(LIMIT));
  // No swap either, so the limit is reached (memsw is at least the memory limit; set after it).
  if (fs.existsSync(`${dir}/memory.memsw.limit_in_bytes`)) fs.writeFileSync(`${dir}/memory.memsw.limit_in_bytes`, String(LIMIT));
  return dir;
}

/** Allocates (and touches) 16 MiB at a time until the kernel kills it. */
const HOG = ['python3', '-c', 'chunks = []\nwhile True: chunks.append(b"x" * (16 << 20))'];

describe.each(['sub', 'pid1'] as const)('an OOM kill in the init\'s memory cgroup (%s)', (mode) => {
  it('the termination log, the line on stderr and the exit event say so, with the limit and the peak', async () => {
    const cg = memoryCgroup();
    const dir = tempDir();
    const term = path.join(dir, 'termination-log');
    const ev = path.join(dir, 'events');
    // Joins the cgroup, then becomes the init (as PID 1, inside unshare, so the namespace is in the cgroup too).
    const join = `echo $$ > "$1/cgroup.procs" && shift && exec "$@"`;
    const init = [BIN, ...(mode === 'sub' ? ['-s'] : []), '--termination-log', term, '--events', ev, '--', ...HOG];
    const l = mode === 'sub' ? launch('sh', ['-c', join, 'join', cg, ...init]) : launch(UNSHARE_PID1[0], [...UNSHARE_PID1.slice(1), 'sh', '-c', join, 'join', cg, ...init]);
    expect(await l.exitCode(60_000)).toBe(137);
    const message = fs.readFileSync(term, 'utf8');
    expect(message).toMatch(/^the program was killed by SIGKILL; the kernel OOM-killed [0-9]+ process(es)? in the cgroup \(limit 128\.0 MiB\); peak memory [0-9.]+ MiB$/);
    expect(l.stderr()).toMatch(/\] the kernel OOM-killed [0-9]+ process(es)? in the cgroup \(limit 128\.0 MiB\); peak memory [0-9.]+ MiB\n/);
    const exit = fs.readFileSync(ev, 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x)).at(-1);
    expect(validate(schema, exit)).toEqual([]);
    expect(exit).toMatchObject({ event: 'exit', code: 137, memory: { limit_bytes: LIMIT } });
    expect(exit.memory.oom_kills).toBeGreaterThanOrEqual(1);
    expect(exit.memory.peak_bytes).toBeGreaterThan(LIMIT / 2);
  });
});

describe('no OOM kill', () => {
  it('the termination message says nothing of memory; the exit event has the cgroup\'s numbers with no kill', async () => {
    const cg = memoryCgroup();
    const dir = tempDir();
    const term = path.join(dir, 'termination-log');
    const ev = path.join(dir, 'events');
    const l = launch('sh', ['-c', `echo $$ > "$1/cgroup.procs" && shift && exec "$@"`, 'join', cg, BIN, '-s', '--termination-log', term, '--events', ev, '--', 'sh', '-c', 'exit 3']);
    expect(await l.exitCode()).toBe(3);
    expect(fs.readFileSync(term, 'utf8')).toBe('the program exited with status 3');
    const exit = fs.readFileSync(ev, 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x)).at(-1);
    expect(exit.memory).toMatchObject({ oom_kills: 0, limit_bytes: LIMIT });
    expect(l.stderr()).toBe('');
  });
});
