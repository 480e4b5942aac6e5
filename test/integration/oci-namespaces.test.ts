/**
 * OCI linux.namespaces[].path: namespaces joined rather than created, as
 * Kubernetes (a pod's net/ipc/uts/pid), Podman (its /run/netns/netns-…) and
 * Docker (`--network container:X`) ask for, beside runc on the same bundle.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { besideRunc, hasRunc } from './oci-helpers.js';
import { canContainer, CONTAINER_NEEDS, editConfig } from './container-helpers.js';
import { waitFor } from './run-helpers.js';

const hasIp = spawnSync('ip', ['-V']).status === 0;

/** What the workload writes: its namespaces as the kernel names them. */
const SHOW_NS = 'for n in net ipc uts pid; do readlink /proc/self/ns/$n; done >/tmp/ns';

describe.skipIf(unmet(canContainer && hasRunc && hasIp, `${CONTAINER_NEEDS}, runc and ip(8)`))('namespaces given by path', () => {
  const oci = besideRunc((config) => (config.root.readonly = false));
  const { id, tini, both } = oci;
  const netns = `tini-ts-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const setNamespaces = (paths: Record<string, string>, args = ['sh', '-c', SHOW_NS]) =>
    editConfig(oci.bundle, (config) => {
      config.process.args = args;
      config.linux.namespaces = ['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => (paths[type] ? { type, path: paths[type] } : { type }));
    });
  const inode = (p: string) => fs.statSync(p).ino;
  /** `ip netns add` makes /run/netns a mount point the first time and leaves it: undone if this test made it. */
  const netnsMounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === '/run/netns');
  let netnsWasMounted = true;
  /** Runs the bundle to its end; returns the lines the workload wrote. */
  const runToEnd = async (rt: typeof tini, c: string): Promise<string[]> => {
    const cr = rt('create', '--bundle', oci.bundle, c);
    expect(cr.status, cr.stderr).toBe(0);
    expect(rt('start', c).status).toBe(0);
    expect(await waitFor(() => JSON.parse(rt('state', c).stdout).status === 'stopped', 10_000)).toBe(true);
    expect(rt('delete', c).status).toBe(0);
    const file = path.join(oci.bundle, 'rootfs/tmp/ns');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    fs.rmSync(file);
    return lines;
  };

  beforeAll(() => {
    netnsWasMounted = netnsMounted();
    const r = spawnSync('ip', ['netns', 'add', netns], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add failed: ${r.stderr}`);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'delete', netns]);
    // Not lazily: with another namespace bound there meanwhile, the mount is someone's and stays.
    if (!netnsWasMounted && fs.readdirSync('/run/netns').length === 0) spawnSync('umount', ['/run/netns']);
    expect(fs.existsSync(`/run/netns/${netns}`)).toBe(false);
    // (then besideRunc's afterAll, registered first, runs last: nothing of the containers is left)
  });

  it('a network namespace made with `ip netns add` is joined by its path; the others are new, as with runc', async () => {
    setNamespaces({ network: `/run/netns/${netns}` });
    const want = `net:[${inode(`/run/netns/${netns}`)}]`;
    for (const [who, rt] of Object.entries(both)) {
      const seen = await runToEnd(rt, id(`netns-${who}`));
      expect(seen[0], who).toBe(want);
      // the others are the container's own, not the host's
      expect(seen.slice(1), who).not.toContain(fs.readlinkSync('/proc/self/ns/ipc'));
      expect(seen.slice(1), who).not.toContain(fs.readlinkSync('/proc/self/ns/uts'));
    }
    // A joined namespace is someone else's: it survives the container, untouched.
    expect(inode(`/run/netns/${netns}`)).toBe(Number(/\[(\d+)\]/.exec(want)![1]));
  });

  it("a container shares another's net, ipc, uts and pid namespaces through /proc/PID/ns (a Kubernetes pod)", async () => {
    setNamespaces({}, ['sleep', '60']);
    const pod = id('pod');
    const pidFile = path.join(oci.f.dir, 'pod.pid');
    expect(tini('create', '--bundle', oci.bundle, '--pid-file', pidFile, pod).status).toBe(0);
    expect(tini('start', pod).status).toBe(0);
    const podPid = fs.readFileSync(pidFile, 'utf8');
    const podNs = ['net', 'ipc', 'uts', 'pid'].map((n) => fs.readlinkSync(`/proc/${podPid}/ns/${n}`));
    setNamespaces({ network: `/proc/${podPid}/ns/net`, ipc: `/proc/${podPid}/ns/ipc`, uts: `/proc/${podPid}/ns/uts`, pid: `/proc/${podPid}/ns/pid` }, ['sh', '-c', `${SHOW_NS}; ps -o comm >>/tmp/ns`]);
    const seen = await runToEnd(tini, id('member'));
    expect(seen.slice(0, 4)).toEqual(podNs);
    // the shared pid namespace: the pod's sleep is visible to the member
    expect(seen.slice(4)).toContain('sleep');
    expect(tini('kill', pod, 'KILL').status).toBe(0);
    expect(await waitFor(() => JSON.parse(tini('state', pod).stdout).status === 'stopped', 10_000)).toBe(true);
    expect(tini('delete', pod).status).toBe(0);
  });

  it('a path that is not a namespace of that type, or does not exist, fails create with one line naming the field, leaving nothing', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ network: '/proc/self/ns/uts' }, /^config\.json: linux\.namespaces\[1\]\.path: \/proc\/self\/ns\/uts is not a namespace of type net \(it is of type uts\)$/],
      [{ ipc: `/run/netns/${netns}` }, /^config\.json: linux\.namespaces\[2\]\.path: \/run\/netns\/.* is not a namespace of type ipc \(it is of type net\)$/],
      [{ uts: '/etc/hostname' }, /^config\.json: linux\.namespaces\[3\]\.path: \/etc\/hostname is not a namespace of type uts$/],
      [{ pid: '/nonexistent/ns' }, /^config\.json: linux\.namespaces\[0\]\.path: cannot open \/nonexistent\/ns: ENOENT$/],
    ];
    for (const [paths, message] of cases) {
      setNamespaces(paths, ['true']);
      for (const [who, rt] of Object.entries(both)) {
        const c = id(`badns-${who}`);
        const r = rt('create', '--bundle', oci.bundle, c);
        expect(r.status, `${who} ${JSON.stringify(paths)}`).not.toBe(0);
        if (who === 'tini') {
          expect(r.stderr.trim().split('\n')).toHaveLength(1);
          expect(r.stderr.trim()).toMatch(message);
        }
        expect(rt('state', c).status, `${who}: nothing created`).not.toBe(0);
      }
    }
    expect(fs.readdirSync(oci.roots.tini)).toEqual([]);
  });
});
