/**
 * With a terminal (the init is the session leader owning it, as under
 * `docker run -t`), the child's process group becomes the terminal's
 * foreground group, and ^C typed on the terminal reaches the child (and a
 * grandchild in its group) exactly once: from the terminal, not a second
 * time through the init.
 */
import fs from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_ENV, BIN, childrenOf, cleanup, fdFlags, launch, O_NONBLOCK, PTY_RUN, readStat, Recorder, requireBinary, SIG, sleep,
  UNSHARE_PID1, waitFor, type Mode,
} from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

describe.each<Mode>(['plain', 'pid1'])('terminal (%s)', (mode) => {
  it('the child is in the foreground, and ^C reaches its group exactly once', async () => {
    const rec = new Recorder();
    const initCmd = mode === 'pid1' ? [...UNSHARE_PID1, BIN, '--', ...rec.argv({ grandchild: true })] : [BIN, '-s', '--', ...rec.argv({ grandchild: true })];
    const pty = launch('python3', [PTY_RUN, ...initCmd], { stdin: 'pipe', env: BASE_ENV });
    const leader = await waitFor(() => /^pid (\d+)$/m.exec(pty.stdout())?.[1], 'pty_run to start the command').then(Number);
    await rec.ready(10_000, () => pty.stderr());
    const init = mode === 'pid1' ? await waitFor(() => childrenOf(leader)[0], 'the init under unshare') : leader;
    const child = await waitFor(() => childrenOf(init).find((c) => readStat(c)?.pgrp === c), 'the main child');
    const grand = await waitFor(() => childrenOf(child)[0], 'the grandchild');

    const st = readStat(child)!;
    expect(st.tpgid, 'the terminal\'s foreground group is the child\'s').toBe(child);
    expect(readStat(grand)!.pgrp).toBe(child);
    expect(readStat(init)!.pgrp).not.toBe(child);
    expect(st.session).toBe(readStat(leader)!.session);

    // The terminal descriptors the child got are blocking, even after a while.
    await sleep(300);
    expect([0, 1, 2].map((fd) => fdFlags(child, fd) & O_NONBLOCK)).toEqual([0, 0, 0]);
    expect(fs.readlinkSync(`/proc/${child}/fd/0`)).toMatch(/^\/dev\/pts\//);

    pty.child.stdin!.write('03\n'); // ^C on the master side
    await rec.waitSignal('main', SIG.INT);
    await rec.waitSignal('grand', SIG.INT);
    // A marker through the init: had the init got the SIGINT too, it would
    // have forwarded it by the time the marker arrives.
    process.kill(init, SIG.USR2);
    await rec.waitSignal('main', SIG.USR2);
    await rec.waitSignal('grand', SIG.USR2);
    process.kill(init, SIG.USR2);
    await rec.waitSignal('main', SIG.USR2, 2);
    await rec.waitSignal('grand', SIG.USR2, 2);
    expect(rec.count('main', SIG.INT)).toBe(1);
    expect(rec.count('grand', SIG.INT)).toBe(1);

    rec.release();
    await waitFor(() => /^exit (\S+)$/m.exec(pty.stdout())?.[1], 'the init to exit on the terminal', {
      detail: () => pty.stdout(),
    }).then((code) => expect(code).toBe('0'));
    expect(await pty.exitCode()).toBe(0);
  });
});
