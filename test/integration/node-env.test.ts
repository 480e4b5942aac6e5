/**
 * The init is a Node program, but Node's own environment variables are the
 * child's business: NODE_OPTIONS (--require, --inspect), NODE_DEBUG and
 * NODE_EXTRA_CA_CERTS must not change what the init does or prints, and
 * reach the child unchanged. SIGUSR1 never opens Node's inspector.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN, cleanup, fdFlags, launch, listeningSockets, O_NONBLOCK, Recorder, requireBinary, SIG, sleep, startInit, waitFor, type Mode,
} from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

const VARS: [string, string][] = [
  ['NODE_OPTIONS', '--require /nonexistent.js'],
  ['NODE_OPTIONS', '--inspect'],
  ['NODE_OPTIONS', '--inspect=0.0.0.0:0 --trace-warnings'],
  ['NODE_DEBUG', '*'],
  ['NODE_EXTRA_CA_CERTS', '/nonexistent'],
];

function environOf(pid: number): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

type Outcome = Awaited<ReturnType<typeof exerciseOnce>>;
const outcomes = new Map<string, Outcome>();

/** One run per (mode, variable), shared by the tests that look at different parts of it. */
async function exercise(mode: Mode, name: string, value: string): Promise<Outcome> {
  const key = `${mode} ${name}=${value}`;
  if (!outcomes.has(key)) outcomes.set(key, await exerciseOnce(mode, name, value));
  return outcomes.get(key)!;
}

/** Starts the init with one variable set, checks it forwards to the group and the child sees the variable. */
async function exerciseOnce(mode: Mode, name: string, value: string) {
  const rec = new Recorder();
  const init = startInit({ mode, prog: rec.argv({ grandchild: true }), env: { [name]: value }, stdin: 'pipe' });
  await rec.ready(10_000, () => init.stderr());
  const initPid = await init.pid();
  const child = await init.mainChild();
  for (const sig of [SIG.USR1, SIG.TERM, SIG.HUP]) {
    await init.signal(sig);
    await rec.waitSignal('main', sig);
    await rec.waitSignal('grand', sig);
  }
  const childEnv = environOf(child);
  // Time for anything the variable might make Node do (open a port, print) to happen.
  await sleep(300);
  const listening = listeningSockets(initPid);
  const flags = [0, 1, 2].map((fd) => fdFlags(child, fd) & O_NONBLOCK);
  rec.release();
  const code = await init.exitCode();
  return { code, childEnv, listening, flags, stderr: init.stderr(), stdout: init.stdout() };
}

describe.each<Mode>(['pid1', 'sub'])('Node variables (%s)', (mode) => {
  it.each(VARS)('%s=%s: the init runs and forwards as usual, opens no port, and the child sees the variable', async (name, value) => {
    const r = await exercise(mode, name, value);
    expect(r.code, r.stderr).toBe(0);
    expect(r.childEnv.get(name)).toBe(value);
    expect(r.listening).toEqual([]);
    expect(r.stderr).not.toMatch(/Debugger listening|nonexistent\.js|Cannot find module/);
  });

  // NODE_DEBUG=* used to make the init print "TIMER <pid>: ..." debuglog lines
  // through process.stderr, flipping the child's stdio to O_NONBLOCK (fixed in
  // 394faf2: main.ts clears Node's debuglog categories at start-up).
  it.each(VARS)('%s=%s: the init prints nothing, and the child\'s stdio stays blocking', async (name, value) => {
    const r = await exercise(mode, name, value);
    // Only the init's own line on the stop (a SIGTERM was forwarded before the exit).
    expect(r.stderr).toMatch(/^\[WARN  tini-ts \([0-9]+\)\] stopped by SIGTERM after [0-9.]+s; SIGKILL needed: no\n$/);
    expect(r.stdout).toBe('');
    expect(r.flags).toEqual([0, 0, 0]);
  });
});

describe('OpenSSL configuration', () => {
  // A FIFO nobody writes to: whoever opens it to read a configuration hangs.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-openssl-'));
  const fifo = path.join(dir, 'openssl.cnf');
  execFileSync('mkfifo', [fifo]);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('none is read at start-up (OPENSSL_CONF or the default file): the init parses nothing and loads no module an openssl.cnf names', () => {
    const r = spawnSync(BIN, ['--', 'sh', '-c', 'echo "$OPENSSL_CONF"'], { env: { PATH: process.env.PATH, OPENSSL_CONF: fifo }, encoding: 'utf8', timeout: 10_000 });
    expect(r.error, r.stderr).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${fifo}\n`); // the child's environment is its own
  });

  it('a plain Node does read it (so the check above can fail)', () => {
    const r = spawnSync(process.execPath, ['-e', '0'], { env: { OPENSSL_CONF: fifo }, timeout: 1500 });
    expect(r.error && (r.error as NodeJS.ErrnoException).code).toBe('ETIMEDOUT');
  });
});

describe('inspector check', () => {
  it('listeningSockets() does see an inspector that SIGUSR1 opens in a plain Node (so the checks above can fail)', async () => {
    // Node installs its SIGUSR1 handler before it runs the script: "ready" on stdout means it is there.
    const node = launch(process.execPath, ['--inspect-port=0', '-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)']);
    await waitFor(() => node.stdout().includes('ready'), 'node to start', { detail: () => node.stderr() });
    expect(listeningSockets(node.pid)).toEqual([]);
    process.kill(node.pid, SIG.USR1);
    await waitFor(() => listeningSockets(node.pid).length > 0, 'the inspector to listen', {
      detail: () => node.stderr(),
    });
    // Node says so too (the line may come a moment after the socket is listening).
    await waitFor(() => /Debugger listening/.test(node.stderr()), 'node to report the inspector', { detail: () => node.stderr() });
  });
});
