/**
 * `update [--resources FILE|-] [--memory N ...] ID`: new limits for a running
 * (or created, or paused) container's cgroup. The LinuxResources JSON (from
 * the file, or stdin as containerd sends it) is read with config.json's
 * checks, the flags over it; zero values mean "unchanged", as in runc. Bad
 * input is refused in one line before any cgroup file is written.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { OciCommand } from '../../cli/oci-args.js';
import { DEFAULT_ROOT, detectVersion } from '../../cgroup/index.js';
import { readText } from '../../cgroup/fsutil.js';
import { updateCgroup } from '../../cgroup/update.js';
import { naming, within } from '../../libc/error.js';
import { checkResources } from '../../runtime/container.js';
import { jsonProblem, parseResources } from '../../runtime/oci/config.js';
import type { OciContext } from './context.js';
import { loadContainer } from './load.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function update(cmd: Extract<OciCommand, { verb: 'update' }>, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  if (status === 'stopped') ctx.fail('container not running');
  let given: Obj = {};
  if (cmd.resources !== null) {
    let text: string;
    try {
      // fd 0 read directly: the runtime never uses process.stdin (see context.ts).
      text = fs.readFileSync(cmd.resources === '-' ? 0 : cmd.resources, 'utf8');
    } catch (e) {
      return ctx.fail(`update: cannot read ${cmd.resources === '-' ? 'the resources from stdin' : cmd.resources}: ${(e as NodeJS.ErrnoException).code}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isObj(parsed)) return ctx.fail('update: --resources: must be a JSON object (LinuxResources)');
      given = parsed;
    } catch (e) {
      return ctx.fail(`update: --resources: ${jsonProblem(text, (e as Error).message)}`);
    }
  }
  const merged = withoutZeros(given);
  for (const [k, v] of Object.entries(cmd.flags)) merged[k] = { ...(isObj(merged[k]) ? merged[k] : {}), ...v };
  const r = parseResources(merged);
  if (!r.ok) return ctx.fail(`update: ${r.error}`);
  const res = r.resources;
  if (res.devices !== undefined) r.unsupported.push('devices (device rules are set at create only)');
  delete res.devices;
  if (r.unsupported.length > 0) ctx.log('warning', `update: not supported, ignored: ${r.unsupported.join(', ')}`);
  const cpu = res.cpu;
  if (cpu?.period !== undefined && cpu.quota === undefined) return ctx.fail('update: resources.cpu.period: needs resources.cpu.quota in the same update');
  const version = detectVersion(DEFAULT_ROOT);
  if (version === null) return ctx.fail(`update: no cgroup filesystem at ${DEFAULT_ROOT}`);
  // A quota without a period keeps the container's period (the controllers would assume 100 ms).
  if (cpu?.quota !== undefined && cpu.period === undefined) cpu.period = currentPeriod(version, rec.cgroupDirs) ?? undefined;
  // -1 removes a limit; 0 leaves it, as in runc (withoutZeros dropped those).
  const asked = checkResources(res, os.availableParallelism(), 'resources', true);
  if (!asked.ok) return ctx.fail(within(asked.error, 'update'));
  const resources = asked.value;
  if (version === 2 && resources.memory?.disableOOMKiller) {
    delete resources.memory.disableOOMKiller;
    ctx.log('warning', 'update: not supported, ignored: memory.disableOOMKiller (cgroup v2 has no switch for it)');
  }
  const updated = updateCgroup(DEFAULT_ROOT, version, rec.cgroupDirs, resources);
  if (!updated.ok) return ctx.fail(within(naming(updated.error, (f) => `resources.${f}`), 'update'));
  ctx.log('debug', `updated ${cmd.id}`);
  ctx.exit(0);
}

/** runc's update leaves a field alone when it is 0 (Go's zero value): so does this. */
function withoutZeros(v: Obj): Obj {
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === 0) continue;
    out[k] = isObj(x) ? withoutZeros(x) : x;
  }
  return out;
}

function currentPeriod(version: 1 | 2, dirs: readonly string[]): number | null {
  for (const d of dirs) {
    const text = version === 1 ? readText(`${d}/cpu.cfs_period_us`) : readText(`${d}/cpu.max`)?.split(' ')[1] ?? null;
    if (text !== null && /^\d+\s*$/.test(text)) return Number(text);
  }
  return null;
}
