/**
 * The cgroup hierarchies a container's init belongs to, as the host mounts
 * them: what its /sys/fs/cgroup shows (the root filesystem's cgroup mounts,
 * or `run`'s own cgroups over the host's /sys).
 */
import fs from 'node:fs';
import path from 'node:path';

/** A cgroup hierarchy the init belongs to: where the host mounts it and the init's cgroup in it. */
export interface CgroupMountInfo { mountPoint: string; source: string; fstype: 'cgroup' | 'cgroup2' }

/**
 * The cgroup hierarchies of this process, as the host sees them (read before
 * a cgroup namespace); with JOINED (cgroup directories, one per hierarchy at
 * most), those of a process that is in them and elsewhere where this one is:
 * what the container's init will read once it has joined the container's
 * cgroup, which the launcher works out while the init's Node starts.
 */
export function readCgroupMounts(joined: readonly string[] = []): CgroupMountInfo[] {
  // As mountinfo names them: a v1 hierarchy is often reached through a link (cpu -> cpu,cpuacct).
  const dirs = joined.map((d) => fs.realpathSync.native(d));
  return cgroupMountsFrom(fs.readFileSync('/proc/self/cgroup', 'utf8'), fs.readFileSync('/proc/self/mountinfo', 'utf8'), dirs);
}

/** readCgroupMounts from the texts of /proc/self/cgroup and /proc/self/mountinfo, the joined directories resolved. */
export function cgroupMountsFrom(procCgroup: string, mountinfo: string, dirs: readonly string[]): CgroupMountInfo[] {
  const membership = new Map<string, string>();
  for (const line of procCgroup.split('\n')) {
    const m = /^[0-9]+:([^:]*):(.*)$/.exec(line);
    if (m) membership.set(m[1], m[2]);
  }
  const out: CgroupMountInfo[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const f = left.split(' ');
    const [fstype, , superOpts] = right.split(' ');
    const mountRoot = f[3];
    const mountPoint = f[4];
    let key: string | undefined;
    if (fstype === 'cgroup2') key = '';
    else if (fstype === 'cgroup') {
      const opts = superOpts.split(',');
      key = [...membership.keys()].find((k) => k !== '' && k.split(',').every((c) => opts.includes(c)));
    } else continue;
    const dir = dirs.find((d) => d === mountPoint || d.startsWith(`${mountPoint}/`));
    const cg = dir !== undefined ? path.posix.join(mountRoot, path.posix.relative(mountPoint, dir)) : key === undefined ? undefined : membership.get(key);
    // Hierarchies where the init sits in the host's root cgroup (tini-ts made no cgroup there) are not shown: the container would see the whole host's tree.
    if (cg === undefined || cg === '/' || out.some((o) => o.mountPoint === mountPoint)) continue;
    const rel = path.posix.relative(mountRoot, cg);
    if (rel.startsWith('..')) continue;
    out.push({ mountPoint, source: path.posix.join(mountPoint, rel), fstype: fstype as 'cgroup' | 'cgroup2' });
  }
  return out;
}
