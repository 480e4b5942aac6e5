/** Shared set-up for the container tests: a busybox root filesystem, a second layer, and "nothing left" checks. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { busyboxAvailable, makeBusyboxRootfs } from '../helpers/rootfs.js';
import { canRun, RUN_NEEDS, ownStateDirs, parentLeft, snapshot } from './run-helpers.js';

/** (the container tests import it from here with the fixture) */
export { fields } from './run-helpers.js';

export const canContainer = canRun && busyboxAvailable();
export const CONTAINER_NEEDS = `${RUN_NEEDS} and a static busybox at /bin/busybox`;

/** Every file under `dir` with its size and mode (a lower layer must not change). */
export function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${e.isFile() ? st.size : ''}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

export interface Fixture { dir: string; rootfs: string; layer: string; cleanup(): void }

/** DIR/rootfs (busybox) and DIR/layer2 (/app/greeting, an app user). */
export function makeFixture(): Fixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-ctr-'));
  const rootfs = makeBusyboxRootfs(path.join(dir, 'rootfs'));
  const layer = path.join(dir, 'layer2');
  fs.mkdirSync(path.join(layer, 'app'), { recursive: true });
  fs.mkdirSync(path.join(layer, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(layer, 'app/greeting'), 'hello from layer 2\n');
  fs.writeFileSync(path.join(layer, 'etc/passwd'), fs.readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8') + 'app:x:1000:1000:app:/home/app:/bin/sh\n');
  fs.writeFileSync(path.join(layer, 'etc/group'), fs.readFileSync(path.join(rootfs, 'etc/group'), 'utf8') + 'app:x:1000:\nstaff:x:50:app\n');
  return { dir, rootfs, layer, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** What must be the same before and after: our cgroups, the host's mounts, our launchers' state, the layers. */
export function hostState(f: Fixture): Record<string, unknown> {
  return {
    ...snapshot(),
    state: ownStateDirs(),
    rootfs: tree(f.rootfs),
    layer: tree(f.layer),
    work: fs.readdirSync(f.dir).filter((n) => n.startsWith('.tini-ts-work')),
  };
}

/**
 * The file's fixture (filled in before its first test) and the checks every
 * container test file makes: after each test the host is as it was (cgroups,
 * mounts, state directories, the layers' trees); after the file the fixture
 * is removed and nothing is left in the cgroup parent.
 */
export function useContainerFixture(): Fixture {
  const f = {} as Fixture;
  let before: Record<string, unknown>;
  beforeAll(() => {
    Object.assign(f, makeFixture());
  });
  afterAll(() => {
    f.cleanup?.();
    expect(parentLeft()).toEqual([]);
  });
  beforeEach(() => {
    before = hostState(f);
  });
  afterEach(() => {
    expect(hostState(f)).toEqual(before);
  });
  return f;
}

/**
 * The bundle `runc spec` writes (terminal off), around the fixture's busybox
 * root moved into it; `patch` edits its config.json.
 */
export function makeRuncBundle(f: Fixture, patch: (config: Record<string, any>) => void): string {
  const bundle = path.join(f.dir, 'bundle');
  fs.mkdirSync(bundle);
  fs.renameSync(f.rootfs, path.join(bundle, 'rootfs'));
  f.rootfs = path.join(bundle, 'rootfs');
  const r = spawnSync('runc', ['spec'], { cwd: bundle });
  if (r.status !== 0) throw new Error(`runc spec failed: ${r.stderr}`);
  editConfig(bundle, (config) => {
    config.process.terminal = false;
    patch(config);
  });
  return bundle;
}

/** Reads, edits and writes a bundle's config.json. */
export function editConfig(bundle: string, patch: (config: Record<string, any>) => void): void {
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  patch(config);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
}
