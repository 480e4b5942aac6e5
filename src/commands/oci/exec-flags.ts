/**
 * exec's process flags over the process it runs (--process FILE, or the
 * container's own with the command's args), as runc's exec applies them:
 * --cwd replaces, --env appends (a name given again replaces the earlier
 * value), --user replaces the uid (and the gid if given), --additional-gids
 * and --cap append (--cap to the bounding, effective, permitted and ambient
 * sets), --no-new-privs sets. AppArmor and SELinux are not supported: an
 * empty or `unconfined` profile is a warning, any other an error.
 */
import type { ExecFlags } from '../../cli/oci-args.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function applyExecFlags(process: unknown, f: ExecFlags, warn: (msg: string) => void): Obj | string {
  for (const [flag, value, what] of [['--apparmor', f.apparmor, 'AppArmor'], ['--process-label', f.processLabel, 'SELinux']] as const) {
    if (value === null) continue;
    if (value === '' || value === 'unconfined') warn(`exec: ${flag} '${value}' ignored: ${what} is not supported by tini-ts`);
    else return `exec: ${flag} '${value}': ${what} is not supported by tini-ts`;
  }
  const p: Obj = isObj(process) ? { ...process } : {};
  if (f.cwd !== null) p.cwd = f.cwd;
  if (f.env.length > 0) {
    const name = (e: unknown) => (typeof e === 'string' ? e.slice(0, e.indexOf('=') >>> 0) : e);
    const added = new Set(f.env.map(name));
    p.env = [...list(p.env).filter((e) => !added.has(name(e) as string)), ...f.env];
  }
  if (f.user !== null || f.additionalGids.length > 0) {
    const u: Obj = isObj(p.user) ? { ...p.user } : {};
    if (f.user !== null) {
      u.uid = f.user.uid;
      if (f.user.gid !== null) u.gid = f.user.gid;
    }
    if (f.additionalGids.length > 0) u.additionalGids = [...list(u.additionalGids), ...f.additionalGids];
    p.user = u;
  }
  if (f.caps.length > 0) {
    const c: Obj = isObj(p.capabilities) ? { ...p.capabilities } : {};
    for (const set of ['bounding', 'effective', 'permitted', 'ambient']) c[set] = [...list(c[set]), ...f.caps];
    p.capabilities = c;
  }
  if (f.noNewPrivs) p.noNewPrivileges = true;
  return p;
}
