/**
 * Boots the cgroup-v2 guest built by test/setup/vm-image.sh and runs one shell
 * command inside it, as root, on the host's root (read-only, with a tmpfs
 * overlay): cgroup2 at /sys/fs/cgroup (the kernel gets cgroup_no_v1=all),
 * /proc, /sys, /dev, tmpfs /tmp and /run. Returns the command's exit status
 * and output (written to a second, writable 9p share).
 *
 * KVM is tried first when /dev/kvm exists, unless an earlier probe on this
 * host kernel failed: a guest that does not reach its first stage within
 * KVM_PROBE_MS (or qemu refusing to start) means TCG. qemu is our child,
 * stopped by its pid (and by a parent-death signal if the runner dies); its
 * share directory is removed; every step has a deadline.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const CACHE = path.join(REPO, '.cache/vm');
const KVM_PROBE_MS = 20_000;
const STAGE1 = 'tini-ts-vm: stage1';
const LOCKUP_RETRIES = 2;

/** Builds (or reuses) the guest's kernel and initramfs; throws with the script's output on failure. */
export function buildImage({ timeoutMs = 900_000 } = {}) {
  const r = spawnSync('sh', [path.join(REPO, 'test/setup/vm-image.sh')], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`test/setup/vm-image.sh failed (${r.error?.message ?? `status ${r.status} signal ${r.signal}`}): ${r.stderr}${r.stdout}`);
  for (const f of ['vmlinuz', 'initramfs.cpio.gz']) if (!fs.existsSync(path.join(CACHE, f))) throw new Error(`the guest image has no ${f} in ${CACHE}`);
}

type Accel = 'kvm' | 'tcg';

export interface VmResult {
  /** the command's exit status; null when it never finished (see error) */
  status: number | null;
  /** the command's output (stdout and stderr) */
  output: string;
  /** what the command wrote to $TINI_TS_VM_OUT/results.json, if anything */
  results: string | null;
  /** the guest's serial console, qemu's messages included */
  console: string;
  accel: Accel;
  seconds: number;
  error?: string;
  /** soft lockups of the guest kernel that made the runner boot again */
  lockups: string[];
}

interface BootOptions {
  memMiB: number;
  cpus: number;
  timeoutMs: number;
  onConsole?: ((text: string) => void) | undefined;
  probe?: boolean;
}

interface Boot {
  status: number | null;
  reason: 'exited' | 'timeout' | 'probe-failed';
  console: string;
  qemu: { code: number | null; signal: NodeJS.Signals | null };
}

function accelFile(): string {
  return path.join(CACHE, `accel-${os.release()}`);
}

/** 'kvm' when worth trying (not known to fail on this host kernel), else 'tcg'. */
function firstAccel(): Accel {
  const forced = process.env.TINI_TS_VM_ACCEL;
  if (forced === 'tcg' || forced === 'kvm') return forced;
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return 'tcg';
  }
  try {
    return fs.readFileSync(accelFile(), 'utf8').trim() === 'tcg' ? 'tcg' : 'kvm';
  } catch {
    return 'kvm';
  }
}

function qemuArgs(accel: Accel, outDir: string, { memMiB, cpus }: BootOptions): string[] {
  // softlockup_panic: a guest kernel stuck in a soft lockup (seen now and then under TCG) panics, and
  // with panic=-1 and -no-reboot qemu exits, so the runner can boot again instead of waiting for the deadline
  const append = ['console=ttyS0', 'cgroup_no_v1=all', 'panic=-1', 'softlockup_panic=1', 'loglevel=5', 'random.trust_cpu=on', 'rdinit=/init'];
  return [
    ...(accel === 'kvm' ? ['-enable-kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-m', String(memMiB), '-smp', String(cpus),
    '-kernel', path.join(CACHE, 'vmlinuz'), '-initrd', path.join(CACHE, 'initramfs.cpio.gz'),
    '-append', append.join(' '),
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-nodefaults',
    '-device', 'virtio-rng-pci',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${outDir},mount_tag=out,security_model=none`,
  ];
}

/**
 * Boots once with `accel`. Resolves with the console, the status (null if
 * the command never finished) and why it ended; `probe` stops a KVM boot
 * that does not reach stage 1 in time (reason 'probe-failed').
 */
function bootOnce(accel: Accel, outDir: string, opts: BootOptions): Promise<Boot> {
  return new Promise((resolve) => {
    // setpriv execs qemu (same pid) with a parent-death signal: a runner that is killed takes its guest with it
    const qemu = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...qemuArgs(accel, outDir, opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleText = '';
    let reason: Boot['reason'] = 'exited';
    let probe: NodeJS.Timeout | undefined;
    const stop = (why: Boot['reason']) => {
      reason = why;
      if (qemu.exitCode === null && qemu.pid) {
        try {
          process.kill(qemu.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    };
    const deadline = setTimeout(() => stop('timeout'), opts.timeoutMs);
    if (accel === 'kvm' && opts.probe) probe = setTimeout(() => stop('probe-failed'), KVM_PROBE_MS);
    const onData = (d: Buffer) => {
      const s = d.toString();
      consoleText += s;
      if (opts.onConsole) opts.onConsole(s);
      if (probe && consoleText.includes(STAGE1)) {
        clearTimeout(probe);
        probe = undefined;
      }
    };
    qemu.stdout.on('data', onData);
    qemu.stderr.on('data', onData);
    let settled = false;
    qemu.on('error', (e) => {
      // qemu could not be started (then no 'close' may follow)
      consoleText += `\nqemu: ${e.message}\n`;
      if (qemu.pid === undefined) finish(null, null);
    });
    qemu.on('close', (code, signal) => finish(code, signal));
    function finish(code: number | null, signal: NodeJS.Signals | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (probe) clearTimeout(probe);
      // KVM that cannot run this kernel makes qemu exit before stage 1
      if (accel === 'kvm' && opts.probe && reason === 'exited' && !consoleText.includes(STAGE1)) reason = 'probe-failed';
      let status: number | null = null;
      try {
        status = Number(fs.readFileSync(path.join(outDir, 'status'), 'utf8').trim());
      } catch {
        // the command never finished
      }
      resolve({ status, reason, console: consoleText, qemu: { code, signal } });
    }
  });
}

/**
 * Runs `command` (a shell script, run by /bin/sh in `cwd`, default the
 * repository) in a fresh guest. Returns { status, output, console, accel,
 * seconds }: status is null when the guest never finished it (then `error`
 * says why: timeout, boot failure).
 */
export async function runInVm(
  command: string,
  { cwd = REPO, env = {}, timeoutMs = 3_600_000, memMiB = 2048, cpus = 2, onConsole }: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; memMiB?: number; cpus?: number; onConsole?: (text: string) => void } = {},
): Promise<VmResult> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-vm-'));
  const started = Date.now();
  try {
    const exports = Object.entries(env).map(([k, v]) => `export ${k}='${String(v).replaceAll("'", "'\\''")}'`);
    fs.writeFileSync(path.join(outDir, 'cmd'), ['set -e', ...exports, `cd '${cwd}'`, 'set +e', command, ''].join('\n'));
    // The directory the command runs in, kept visible where the guest mounts fresh tmpfs (a checkout under /tmp)
    fs.writeFileSync(path.join(outDir, 'keep'), cwd);
    const lockups: string[] = [];
    let accel: Accel = firstAccel();
    let r = await bootOnce(accel, outDir, { memMiB, cpus, timeoutMs, onConsole, probe: true });
    if (r.reason === 'probe-failed') {
      fs.writeFileSync(accelFile(), 'tcg\n');
      onConsole?.('\ntini-ts-vm: KVM cannot boot this kernel here, falling back to TCG\n');
      accel = 'tcg';
      fs.rmSync(path.join(outDir, 'output'), { force: true });
      r = await bootOnce(accel, outDir, { memMiB, cpus, timeoutMs: timeoutMs - (Date.now() - started), onConsole });
    }
    for (let retry = 1; r.status === null && /soft lockup/.test(r.console) && retry <= LOCKUP_RETRIES; retry++) {
      onConsole?.(`\ntini-ts-vm: the guest kernel locked up, booting again (${retry}/${LOCKUP_RETRIES})\n`);
      lockups.push(/.*soft lockup.*/.exec(r.console)![0]);
      for (const f of ['output', 'results.json']) fs.rmSync(path.join(outDir, f), { force: true });
      r = await bootOnce(accel, outDir, { memMiB, cpus, timeoutMs: timeoutMs - (Date.now() - started), onConsole });
    }
    let output = '';
    try {
      output = fs.readFileSync(path.join(outDir, 'output'), 'utf8');
    } catch {
      // nothing written
    }
    let results: string | null = null;
    try {
      results = fs.readFileSync(path.join(outDir, 'results.json'), 'utf8');
    } catch {
      // the command left none
    }
    const seconds = (Date.now() - started) / 1000;
    const stage1Failure = /tini-ts-vm: stage1 failed: .*/.exec(r.console)?.[0];
    const error =
      r.status !== null ? undefined : (stage1Failure ?? (r.reason === 'timeout' ? `the guest did not finish within ${timeoutMs} ms` : `the guest stopped without a status (qemu ${JSON.stringify(r.qemu)})`));
    return { status: r.status, output, results, console: r.console, accel, seconds, error, lockups };
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}
