/**
 * Zombie reaping: 2000 orphans, re-parented to the init, all exit at the
 * same moment (they block on one pipe that their parent then closes). None
 * may stay a zombie under the init, as PID 1 and as a subreaper that is not
 * PID 1. With -w the init reports each reaped orphan, which counts them.
 */
import fs from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, cleanup, fixture, readStat, requireBinary, startInit, tempDir, waitFor, type Mode } from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

const N = 2000;

describe.each<Mode>(['pid1', 'sub', 'subenv'])('reaping (%s)', (mode) => {
  it(`${N} orphans exiting at once leave no zombie under the init`, async () => {
    const dir = tempDir();
    const init = startInit({ mode, flags: ['-w'], prog: [fixture(), 'orphans', dir, String(N)] });
    const ready = await waitFor(
      () => {
        try {
          return fs.readFileSync(`${dir}/ready`, 'utf8');
        } catch {
          return undefined;
        }
      },
      'the orphans to be made',
      { timeoutMs: 30_000, detail: () => init.stderr() },
    );
    expect(ready.trim()).toBe(`made ${N}`);
    const initPid = await init.pid();
    const main = await init.mainChild();

    // Every orphan was re-parented to the init (PID 1, or the subreaper).
    const held = childrenOf(initPid);
    expect(held).toContain(main);
    expect(held.length).toBe(N + 1);

    fs.writeFileSync(`${dir}/go`, '');
    const zombiesAndOthers = () =>
      childrenOf(initPid)
        .filter((p) => p !== main)
        .map((p) => `${p}:${readStat(p)?.state}`);
    await waitFor(() => zombiesAndOthers().length === 0, 'every orphan to be reaped', {
      timeoutMs: 30_000,
      detail: () => `${zombiesAndOthers().length} left: ${zombiesAndOthers().slice(0, 10).join(' ')}`,
    });
    // Nothing under the init is a zombie, the main child included.
    expect(readStat(main)!.state).not.toBe('Z');
    const reaped = () => (init.stderr().match(/Reaped zombie process with pid=\d+/g) ?? []).length;
    await waitFor(() => reaped() >= N, `${N} "Reaped zombie" lines`, { detail: () => String(reaped()) });
    expect(reaped()).toBe(N);

    fs.writeFileSync(`${dir}/release`, '');
    expect(await init.exitCode()).toBe(0);
  });
});
