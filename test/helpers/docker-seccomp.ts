/**
 * Docker's seccomp profile format (moby/profiles: archMap, includes and
 * excludes by capability, architecture and kernel) -> the OCI linux.seccomp
 * Docker writes into a config.json, as moby's setupSeccomp does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
export const MOBY_DEFAULT = path.join(FIXTURES, 'moby-seccomp/default.json');
/** Podman's (containers/common): the same format. */
export const PODMAN_DEFAULT = path.join(FIXTURES, 'podman-seccomp/seccomp.json');

interface Filter { caps?: string[]; arches?: string[]; minKernel?: string }
interface DockerSyscall { names?: string[]; name?: string; action: string; errnoRet?: number; args?: unknown[]; includes?: Filter; excludes?: Filter }
interface DockerProfile { defaultAction: string; defaultErrnoRet?: number; archMap?: { architecture: string; subArchitectures: string[] | null }[]; syscalls: DockerSyscall[] }

const kernelAtLeast = (kernel: string, min: string) => {
  const [a, b] = kernel.split('.').map(Number);
  const [x, y] = min.split('.').map(Number);
  return a > x || (a === x && b >= y);
};

/** goArch: Go's name (amd64, arm64); caps: the bounding set with CAP_ prefixes; kernel: "major.minor". */
export function dockerSeccomp(caps: string[], goArch = 'amd64', kernel = '6.1', file = MOBY_DEFAULT): Record<string, unknown> {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as DockerProfile;
  const native = goArch === 'amd64' ? 'SCMP_ARCH_X86_64' : 'SCMP_ARCH_AARCH64';
  const map = p.archMap?.find((a) => a.architecture === native);
  const architectures = map ? [map.architecture, ...(map.subArchitectures ?? [])] : [];
  const syscalls = p.syscalls.filter((s) => {
    const ex = s.excludes;
    if (ex?.arches?.includes(goArch)) return false;
    if (ex?.caps?.some((c) => caps.includes(c))) return false;
    if (ex?.minKernel && kernelAtLeast(kernel, ex.minKernel)) return false;
    const inc = s.includes;
    if (inc?.arches?.length && !inc.arches.includes(goArch)) return false;
    if (inc?.caps?.some((c) => !caps.includes(c))) return false;
    if (inc?.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
    return true;
  }).map((s) => {
    const out: Record<string, unknown> = { names: s.names ?? [s.name], action: s.action };
    if (s.errnoRet !== undefined) out.errnoRet = s.errnoRet;
    if (s.args?.length) out.args = s.args;
    return out;
  });
  return { defaultAction: p.defaultAction, ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}), architectures, syscalls };
}
