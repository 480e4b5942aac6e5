/**
 * The init's exit status is its main child's: the exit code, 128+N for a
 * death by signal N, and `-e CODE` turns CODE into 0. The same as PID 1 of a
 * fresh pid namespace, as a subreaper (-s, TINI_SUBREAPER) and plain.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, Recorder, refOf, requireBinary, runInit, signalRef, SIG, startInit, type Mode } from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

const MODES: Mode[] = ['pid1', 'sub', 'subenv', 'plain'];

describe.each(MODES)('exit status (%s)', (mode) => {
  it.each([0, 1, 42, 255])('child exits %i -> the init exits with the same code', async (code) => {
    const r = await runInit({ mode, prog: ['sh', '-c', `exit ${code}`] });
    expect(r.code, r.stderr).toBe(code);
  });

  it.each([SIG.KILL, SIG.TERM, SIG.USR1, 40, 64])('child killed by signal %i -> 128+N', async (sig) => {
    const rec = new Recorder();
    const init = startInit({ mode, prog: rec.argv({ none: true }) });
    await rec.ready(10_000, () => init.stderr());
    const child = refOf(await init.mainChild())!;
    expect(signalRef(child, sig)).toBe(true);
    expect(await init.exitCode()).toBe(128 + sig);
  });

  it('-e 42 turns exit 42 into 0 and leaves 43 alone', async () => {
    expect((await runInit({ mode, flags: ['-e', '42'], prog: ['sh', '-c', 'exit 42'] })).code).toBe(0);
    expect((await runInit({ mode, flags: ['-e', '42'], prog: ['sh', '-c', 'exit 43'] })).code).toBe(43);
  });

  it('-e 143 -e 7 remaps a SIGTERM death (128+15) too', async () => {
    const rec = new Recorder();
    const init = startInit({ mode, flags: ['-e', '7', '-e', '143'], prog: rec.argv({ none: true }) });
    await rec.ready(10_000, () => init.stderr());
    signalRef(refOf(await init.mainChild())!, SIG.TERM);
    expect(await init.exitCode()).toBe(0);
  });
});

describe('not PID 1', () => {
  it('warns on stderr without -s, and not with -s, TINI_SUBREAPER or as PID 1', async () => {
    const warning = "zombie reaping won't work";
    expect((await runInit({ mode: 'plain', prog: ['true'] })).stderr).toContain(warning);
    for (const mode of ['sub', 'subenv', 'pid1'] as const) {
      const r = await runInit({ mode, prog: ['true'] });
      expect(r.code).toBe(0);
      expect(r.stderr, mode).toBe('');
    }
  });
});
