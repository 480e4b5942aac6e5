/**
 * `events [--stats] [--interval D] ID`: runc's JSON events on stdout, one a
 * line. `--stats` prints one `{"type":"stats","id","data"}` and exits;
 * otherwise stats every interval, and `{"type":"oom","id"}` as soon as the
 * kernel's OOM-kill counter of the container's memory cgroup goes up, until
 * the container stops.
 */
import fs from 'node:fs';
import type { OciCommand } from '../../cli/oci-args.js';
import { DEFAULT_ROOT, detectVersion } from '../../cgroup/index.js';
import { ociStats, oomKills } from '../../cgroup/oci-stats.js';
import type { OciContext } from './context.js';
import { currentStatus, loadContainer } from './load.js';

/** How often the OOM counter and the container's status are looked at, at most. */
const WATCH_MS = 100;

export function events(cmd: Extract<OciCommand, { verb: 'events' }>, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  if (status === 'stopped') ctx.fail(`container with id ${cmd.id} is not running`);
  const version = detectVersion(DEFAULT_ROOT);
  if (version === null) return ctx.fail(`events: no cgroup filesystem at ${DEFAULT_ROOT}`);
  const emit = (e: Record<string, unknown>) => {
    try {
      fs.writeSync(1, JSON.stringify(e) + '\n');
    } catch {
      ctx.exit(0); // the reader is gone (EPIPE): nobody to tell any more
    }
  };
  const stats = () => emit({ type: 'stats', id: cmd.id, data: ociStats(DEFAULT_ROOT, version, rec.cgroupDirs) });
  if (cmd.stats) {
    stats();
    return ctx.exit(0);
  }
  let ooms = oomKills(DEFAULT_ROOT, version, rec.cgroupDirs) ?? 0;
  let nextStats = Date.now() + cmd.intervalMs;
  stats();
  setInterval(() => {
    const now = oomKills(DEFAULT_ROOT, version, rec.cgroupDirs);
    if (now !== null && now > ooms) emit({ type: 'oom', id: cmd.id });
    if (now !== null) ooms = now;
    if (currentStatus(rec, ctx) === 'stopped') ctx.exit(0);
    if (Date.now() >= nextStats) {
      nextStats += cmd.intervalMs;
      stats();
    }
  }, Math.min(WATCH_MS, cmd.intervalMs));
}
