/**
 * Podman drives tini-ts for real: Debian's podman 4.3 and conmon 2.1, with
 * storage, configuration, cgroup parent and temporary directories of the
 * test's own (test/helpers/podman.ts), `--runtime` pointing at
 * dist/tini-ts (through a link named tini-ts-runc), `--network none` and
 * `--pull never` on every run, the image imported offline (`podman import`).
 * Where it makes sense the same scenario runs with runc and the outcomes are
 * compared.
 *
 * What Podman calls: conmon runs `RUNTIME --log-format=json --log F create
 * --bundle B --pid-file P ID` and `exec --pid-file P --process F --detach
 * ID`; Podman itself runs `start ID`, `kill ID N`, `pause ID`, `resume ID`,
 * `delete --force ID` (with an environment holding only XDG_RUNTIME_DIR,
 * no PATH), `update --resources=F ID`; never `--root`: tini-ts's default
 * state root (/run/tini-ts) is used.
 *
 * The scenarios Docker runs too are engine-scenarios.ts's; this file keeps
 * Podman's start-up, its quirks (the `Engine` below) and its own cases.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cgroupsUnder, traceWrapper } from '../helpers/docker.js';
import { PODMAN, podmanAvailable, startPodman, type Podman } from '../helpers/podman.js';
import { unmet } from '../helpers/prereq.js';
import { canContainer, CONTAINER_NEEDS } from './container-helpers.js';
import { engineCalls, engineScenarios, expectEngineStopped, expectNoContainers, hostLinks, importImage, show, type Engine } from './engine-scenarios.js';
import { BIN, waitFor } from './run-helpers.js';

const IMAGE = 'localhost/tini-ts-test:latest';
const TINI_ROOT = '/run/tini-ts';
const RUNC = '/usr/sbin/runc';
const hasRunc = fs.existsSync(RUNC);

describe.skipIf(unmet(canContainer && podmanAvailable() && hasRunc, `${CONTAINER_NEEDS}, Debian's podman and conmon, and runc`))('Podman drives tini-ts (podman --runtime tini-ts, podman run --init)', () => {
  let p: Podman;
  let links: string[];
  const ids: string[] = [];
  const engine: Engine = {
    name: 'podman',
    image: IMAGE,
    cli: (args) => p.podman(args),
    runFlags: (runtime) => ['--runtime', runtime, '--network', 'none', '--pull', 'never', '--cgroup-parent', `/${p.cgroupParent}`],
    runtimes: () => ({ 'tini-ts': p.runtime, runc: RUNC }),
    crun: '/usr/bin/crun',
    forceRm: ['-f', '-t', '0'],
    cgroupOf: (id) => path.join(p.cgroupParent, `libpod-${id}`),
    onDetached: (id) => ids.push(id),
    execMissing: { status: 127, says: null },
    top: { args: ['pid', 'comm'], pids: 'container' },
    statsLimit64m: / \/ 67\.11MB$/,
    unshareUserNs: 'allowed',
    probeId: /^id: uid=1000\S* gid=1000/,
    init: { args: ['--init', '--init-path', BIN], as: 'podman-init' }, // /run/podman-init, bound from dist/tini-ts
    readOnly: ['--read-only', '--read-only-tmpfs=false'],
    devNoexec: true,
    trace: {
      wrapper: () => {
        // Named tini-ts-runc too (in a directory of its own): Podman then passes --log as to tini-ts.
        const dir = path.join(p.dir, 'trace');
        fs.mkdirSync(dir);
        const t = traceWrapper(dir, 'tini-ts-runc', p.runtime);
        return { runtime: t.path, calls: t.calls, logs: t.logs };
      },
      // conmon: create, exec; Podman: start, pause, resume, update, kill, delete --force.
      verbs: ['create', 'start', 'exec', 'pause', 'resume', 'update', 'kill', 'delete'],
      exactly: false,
    },
    terminal: () => ({ argv: [PODMAN, ...p.globals], env: p.env }),
  };
  const { run } = engineCalls(engine);

  beforeAll(async () => {
    p = await startPodman(BIN);
    importImage(engine, p.dir, 'CMD=/bin/sh');
    links = hostLinks();
  }, 120_000);

  afterEach(async () => {
    await expectNoContainers(engine);
    expect(await waitFor(() => cgroupsUnder(p.cgroupParent).filter((d) => !d.endsWith('/conmon')).length === 0, 10_000), `${cgroupsUnder(p.cgroupParent)}`).toBe(true);
    // tini-ts's state of these containers (under its default root: Podman passes no --root).
    for (const id of ids) expect(fs.existsSync(path.join(TINI_ROOT, id)), `state of ${id}`).toBe(false);
    expect(hostLinks(), "the host's network interfaces").toEqual(links);
  });

  afterAll(async () => {
    await expectEngineStopped(p);
  }, 120_000);

  engineScenarios(engine);

  it('podman run --read-only and --tmpfs (tmpfs mounts with runc\'s tmpcopyup), --umask: the workload sees what runc gives it', () => {
    const cases: string[][] = [
      ['--read-only', IMAGE, 'sh', '-c', 'touch /x 2>&1; echo y >/tmp/y && cat /tmp/y; grep -E " /(tmp|run|var/tmp) " /proc/self/mountinfo | cut -d" " -f5,6 | sort'],
      // what /etc held in the image is copied into the tmpfs
      ['--tmpfs', '/etc', IMAGE, 'sh', '-c', 'ls -ln /etc | awk "NR > 1 {print \\$1, \\$3, \\$4, \\$NF}" | sort; grep -E " /etc " /proc/self/mountinfo | cut -d" " -f5,6'],
      ['--umask', '0027', IMAGE, 'sh', '-c', 'umask'],
    ];
    const rts = engine.runtimes();
    for (const c of cases) {
      const [tini, runc] = [rts['tini-ts'], rts.runc].map((rt) => run(rt, ...c));
      expect(runc.status, `${c.join(' ')}\n${show(runc)}`).toBe(0);
      expect(tini.status, `${c.join(' ')}\n${show(tini)}`).toBe(0);
      expect(tini.stdout, c.join(' ')).toBe(runc.stdout);
    }
    expect(run(p.runtime, '--tmpfs', '/etc', IMAGE, 'cat', '/etc/passwd').stdout).toMatch(/^root:/);
  });
});
