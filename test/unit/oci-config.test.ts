import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupPlace, parseConfig, unsupportedWarning } from '../../src/runtime/oci/config.js';

/** What `runc spec` writes (runc 1.1), the reference input. */
function runcSpec(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-spec-'));
  try {
    execFileSync('runc', ['spec'], { cwd: dir });
    return fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const minimal = (patch: (c: any) => void = () => {}) => {
  const c: any = { ociVersion: '1.0.2', process: { args: ['sh'] }, root: { path: 'rootfs' } };
  patch(c);
  return JSON.stringify(c);
};

describe('OCI config.json', () => {
  it("reads the default bundle of `runc spec`, naming what it does not support", () => {
    const r = parseConfig(runcSpec(), '/bundles/b1');
    if (!r.ok) throw new Error(r.error);
    expect(r.plan.process.args).toEqual(['sh']);
    expect(r.plan.process.terminal).toBe(true);
    expect(r.plan.process.capabilities.bounding).toEqual(['AUDIT_WRITE', 'KILL', 'NET_BIND_SERVICE']);
    expect(r.plan.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]);
    expect(r.plan.process.noNewPrivileges).toBe(true);
    expect(r.plan.root).toEqual({ path: '/bundles/b1/rootfs', readonly: true });
    expect(r.plan.hostname).toBe('runc');
    expect(r.plan.namespaces.sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'uts']);
    expect(r.plan.mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    expect(r.plan.maskedPaths).toContain('/proc/kcore');
    expect(r.plan.readonlyPaths).toContain('/proc/sysrq-trigger');
    expect(r.plan.resources.devices).toEqual([{ allow: false, type: 'a', major: null, minor: null, access: 'rwm' }]);
    // runc spec asks for a terminal: said in the one warning, not ignored.
    expect(r.unsupported).toEqual(["process.terminal (no pseudo-terminal is made: the program gets tini-ts run's stdin, stdout and stderr)"]);
  });

  it('reads linux.resources.devices (defaults: every device type, any number, rwm) and refuses bad rules', () => {
    const withDevices = (devices: unknown) => {
      const c = JSON.parse(runcSpec());
      c.process.terminal = false;
      c.linux.resources = { devices };
      return parseConfig(JSON.stringify(c), '/b');
    };
    const r = withDevices([{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'c', major: 136, access: 'rwm' }, { allow: true, type: 'b', major: -1, minor: -1, access: 'm', extra: 1 }]);
    if (!r.ok) throw new Error(r.error);
    expect(r.plan.resources.devices).toEqual([
      { allow: false, type: 'a', major: null, minor: null, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
      { allow: true, type: 'b', major: null, minor: null, access: 'm' },
    ]);
    expect(r.unsupported).toEqual(['linux.resources.devices[3].extra']);
    expect(withDevices({})).toEqual({ ok: false, error: 'config.json: linux.resources.devices: must be an array' });
    expect(withDevices([{ type: 'c' }])).toEqual({ ok: false, error: 'config.json: linux.resources.devices[0].allow: must be true or false' });
    expect(withDevices([{ allow: true, type: 'x' }])).toEqual({ ok: false, error: "config.json: linux.resources.devices[0].type: 'x' is not a, c or b" });
    expect(withDevices([{ allow: true, access: 'rx' }])).toEqual({ ok: false, error: "config.json: linux.resources.devices[0].access: 'rx' is not made of r, w and m" });
  });

  it('reads linux.devices (Docker\'s and Podman\'s --device): the mode without its type bits, u as c, and refuses bad entries by field', () => {
    const r = parseConfig(minimal((c) => (c.linux = { devices: [
      { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o20666, uid: 0, gid: 0 },
      { path: '/dev/x', type: 'u', major: 4, minor: 1 },
      { path: '/dev/f', type: 'p' },
    ] })), '/b');
    if (!r.ok) throw new Error(r.error);
    expect(r.plan.devices).toEqual([
      { path: '/dev/mynull', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/x', type: 'c', major: 4, minor: 1, mode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/f', type: 'p', major: 0, minor: 0, mode: 0o666, uid: 0, gid: 0 },
    ]);
    expect(r.unsupported).toEqual([]);
    const bad = (d: unknown) => {
      const x = parseConfig(minimal((c) => (c.linux = { devices: [d] })), '/b');
      return x.ok ? 'ok' : x.error;
    };
    expect(bad({ path: '/etc/passwd', type: 'c', major: 1, minor: 3 })).toBe("config.json: linux.devices[0].path: '/etc/passwd' is not under /dev");
    expect(bad({ path: '/dev/../etc/x', type: 'c', major: 1, minor: 3 })).toBe("config.json: linux.devices[0].path: '/etc/x' is not under /dev");
    expect(bad({ path: 'dev/x', type: 'c', major: 1, minor: 3 })).toBe("config.json: linux.devices[0].path: 'dev/x' must be an absolute path");
    expect(bad({ path: '/dev/x', type: 's', major: 1, minor: 3 })).toBe("config.json: linux.devices[0].type: 's' is not c, u, b or p");
    expect(bad({ path: '/dev/x', type: 'c', minor: 3 })).toBe('config.json: linux.devices[0].major: must be an integer >= 0');
  });

  it('AppArmor and SELinux labels: a real one is refused (the container would be less confined than asked), unconfined or empty is named in the warning', () => {
    const parse = (patch: (c: any) => void) => {
      const r = parseConfig(minimal(patch), '/b');
      return r.ok ? r.unsupported : r.error;
    };
    expect(parse((c) => (c.process.apparmorProfile = 'docker-default'))).toBe("config.json: process.apparmorProfile: 'docker-default': AppArmor is not supported by tini-ts (the container would run unconfined; give 'unconfined' to accept that)");
    expect(parse((c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2'))).toBe("config.json: process.selinuxLabel: 'system_u:system_r:container_t:s0:c1,c2': SELinux is not supported by tini-ts (the container would run without the label)");
    expect(parse((c) => (c.linux = { mountLabel: 'system_u:object_r:container_file_t:s0' }))).toMatch(/^config\.json: linux\.mountLabel: .*SELinux is not supported/);
    expect(parse((c) => (c.process.apparmorProfile = 'unconfined'))).toEqual(["process.apparmorProfile ('unconfined': nothing to confine, as asked)"]);
    expect(parse((c) => {
      c.process.selinuxLabel = '';
      c.linux = { mountLabel: '' };
    })).toEqual(['process.selinuxLabel (empty)', 'linux.mountLabel (empty)']);
  });

  it('reads memory.reservation and disableOOMKiller (true only: false is the default, sent by Docker every time)', () => {
    const r = parseConfig(minimal((c) => (c.linux = { resources: { memory: { limit: 64 << 20, reservation: 32 << 20, disableOOMKiller: true } } })), '/b');
    if (!r.ok) throw new Error(r.error);
    expect(r.plan.resources).toEqual({ memory: { limit: 64 << 20, reservation: 32 << 20, disableOOMKiller: true } });
    expect(r.unsupported).toEqual([]);
    const off = parseConfig(minimal((c) => (c.linux = { resources: { memory: { reservation: 0, disableOOMKiller: false } } })), '/b');
    expect(off.ok && [off.plan.resources, off.unsupported]).toEqual([{}, []]);
  });

  it('applies defaults', () => {
    const r = parseConfig(minimal(), '/b');
    expect(r.ok && r.plan.process).toMatchObject({ cwd: '/', uid: 0, gid: 0, env: [], terminal: false, noNewPrivileges: false });
    expect(r.ok && r.unsupported).toEqual([]);
    expect(unsupportedWarning([])).toBeNull();
  });

  it('reads namespaces given by path as namespaces to join (an empty path means a new one, as in runc)', () => {
    const r = parseConfig(minimal((c) => {
      c.linux = { namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/pod' }, { type: 'ipc', path: '/proc/7/ns/ipc' }, { type: 'uts', path: '' }, { type: 'pid', path: '/proc/7/ns/pid' }] };
    }), '/b');
    expect(r.ok && r.plan.namespaces).toEqual(['mount', 'network', 'ipc', 'uts', 'pid']);
    expect(r.ok && r.plan.joinNamespaces).toEqual([
      { type: 'network', path: '/run/netns/pod', field: 'linux.namespaces[1].path' },
      { type: 'ipc', path: '/proc/7/ns/ipc', field: 'linux.namespaces[2].path' },
      { type: 'pid', path: '/proc/7/ns/pid', field: 'linux.namespaces[4].path' },
    ]);
    expect(r.ok && r.unsupported).toEqual([]);
  });

  it('reads hooks: path, args, env and timeout per kind, refusing bad ones by field', () => {
    const withHooks = (hooks: unknown) => parseConfig(minimal((c) => (c.hooks = hooks)), '/b');
    const r = withHooks({ prestart: [{ path: '/bin/p', args: ['p', '-x'], env: ['A=1'], timeout: 5 }], poststop: [{ path: '/bin/q' }] });
    expect(r.ok && r.plan.hooks).toEqual({ prestart: [{ path: '/bin/p', args: ['p', '-x'], env: ['A=1'], timeout: 5 }], poststop: [{ path: '/bin/q', args: [], env: null, timeout: null }] });
    expect(withHooks({ prestart: [{ path: 'bin/p' }] })).toEqual({ ok: false, error: "config.json: hooks.prestart[0].path: 'bin/p' must be an absolute path" });
    expect(withHooks({ createRuntime: [{ path: '/p', timeout: 0 }] })).toEqual({ ok: false, error: 'config.json: hooks.createRuntime[0].timeout: must be an integer >= 1' });
    expect(withHooks({ poststart: [{ path: '/p', env: ['NOEQUALS'] }] })).toEqual({ ok: false, error: "config.json: hooks.poststart[0].env[0]: 'NOEQUALS' is not NAME=VALUE" });
    expect(withHooks({ poststart: {} })).toEqual({ ok: false, error: 'config.json: hooks.poststart: must be an array' });
  });

  it('reads resources', () => {
    const r = parseConfig(minimal((c) => {
      c.linux = { resources: { memory: { limit: 67108864, swap: 134217728 }, pids: { limit: 32 }, cpu: { quota: 20000, period: 100000, shares: 512, cpus: '0-1' } } };
    }), '/b');
    expect(r.ok && r.plan.resources).toEqual({ memory: { limit: 67108864, swap: 134217728 }, pids: { limit: 32 }, cpu: { quota: 20000, period: 100000, shares: 512, cpus: '0-1' } });
  });

  it("reads cpu.shares 0 and blockIO.weight 0 as not set, as runc does, and does not warn about disableOOMKiller false (Docker sends all three in every config.json)", () => {
    const r = parseConfig(minimal((c) => {
      c.linux = { resources: { memory: { disableOOMKiller: false }, cpu: { shares: 0 }, blockIO: { weight: 0 } } };
    }), '/b');
    if (!r.ok) throw new Error(r.error);
    expect(r.plan.resources).toEqual({});
    // disableOOMKiller false is what the kernel does anyway: nothing to warn about; true is applied (v1; v2 warns at create)
    expect(r.unsupported).toEqual([]);
    const oom = parseConfig(minimal((c) => (c.linux = { resources: { memory: { disableOOMKiller: true } } })), '/b');
    expect(oom.ok && [oom.plan.resources.memory?.disableOOMKiller, oom.unsupported]).toEqual([true, []]);
    const low = parseConfig(minimal((c) => (c.linux = { resources: { blockIO: { weight: 9 }, cpu: { shares: 1 } } })), '/b');
    expect(!low.ok && low.error).toBe('config.json: linux.resources.blockIO.weight: must be an integer >= 10');
  });

  it.each([
    ['not json', '{', "config.json: (file): not valid JSON at line 1 column 2: expected property name or '}'"],
    ['no process', JSON.stringify({ root: { path: 'r' } }), 'config.json: process: must be an object'],
    ['empty args', minimal((c) => (c.process.args = [])), 'config.json: process.args: must name the program to run'],
    ['args not strings', minimal((c) => (c.process.args = ['sh', 1])), 'config.json: process.args: must be an array of strings'],
    ['relative cwd', minimal((c) => (c.process.cwd = 'tmp')), 'config.json: process.cwd: must be an absolute path'],
    ['bad env', minimal((c) => (c.process.env = ['PATH'])), "config.json: process.env[0]: 'PATH' is not NAME=VALUE"],
    ['negative uid', minimal((c) => (c.process.user = { uid: -1 })), 'config.json: process.user.uid: must be an integer from 0 to 4294967294'],
    ['bad cap', minimal((c) => (c.process.capabilities = { bounding: ['CAP_FLY'] })), "config.json: process.capabilities.bounding[0]: unknown capability 'CAP_FLY'"],
    ['bad rlimit', minimal((c) => (c.process.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }])), "config.json: process.rlimits[0].type: unknown limit 'RLIMIT_FOO'"],
    ['an rlimit named like an object property', minimal((c) => (c.process.rlimits = [{ type: 'toString', soft: 1, hard: 1 }])), "config.json: process.rlimits[0].type: unknown limit 'toString'"],
    ['soft above hard', minimal((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2, hard: 1 }])), 'config.json: process.rlimits[0]: soft (2) is above hard (1)'],
    ['user ns', minimal((c) => (c.linux = { namespaces: [{ type: 'user' }] })), 'config.json: linux.namespaces[0].type: user namespaces are not supported (run as root)'],
    ['ns path', minimal((c) => (c.linux = { namespaces: [{ type: 'net', path: '/x' }] })), "config.json: linux.namespaces[0].type: unknown namespace 'net'"],
    ['relative ns path', minimal((c) => (c.linux = { namespaces: [{ type: 'network', path: 'run/netns/x' }] })), "config.json: linux.namespaces[0].path: 'run/netns/x' must be an absolute path"],
    ['join mount ns', minimal((c) => (c.linux = { namespaces: [{ type: 'mount', path: '/proc/1/ns/mnt' }] })), 'config.json: linux.namespaces[0].path: joining an existing mount namespace is not supported (tini-ts builds the root filesystem in a new one)'],
    ['join cgroup ns', minimal((c) => (c.linux = { namespaces: [{ type: 'cgroup', path: '/proc/1/ns/cgroup' }] })), 'config.json: linux.namespaces[0].path: joining an existing cgroup namespace is not supported'],
    ['hostname without uts', minimal((c) => (c.hostname = 'box')), 'config.json: hostname: needs a uts namespace in linux.namespaces'],
    ['bad cpus', minimal((c) => (c.linux = { resources: { cpu: { cpus: 'all' } } })), "config.json: linux.resources.cpu.cpus: 'all' is not a CPU list like 0-2,4"],
    ['relative mount', minimal((c) => (c.mounts = [{ destination: 'data', type: 'bind', source: '/x' }])), 'config.json: mounts[0].destination: "data" must be an absolute path'],
  ])('rejects %s, naming the field', (_name, text, message) => {
    const r = parseConfig(text, '/b');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.startsWith(message)).toBe(true);
    expect(!r.ok && r.error.includes('\n')).toBe(false);
  });

  it('lists unknown fields in one warning instead of ignoring them', () => {
    const r = parseConfig(minimal((c) => {
      c.hooks = { prestart: [], onReboot: [] };
      c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE' };
      c.linux = { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: '', comment: 'x' }, intelRdt: {} };
    }), '/b');
    expect(r.ok && r.unsupported.sort()).toEqual(['hooks.onReboot', 'linux.intelRdt', 'linux.seccomp.comment', 'process.ioPriority']);
  });

  it('checks linux.seccomp (the filter is the bundle\'s own, none without it) and names the field of an error', () => {
    const withSeccomp = (seccomp: unknown) => parseConfig(minimal((c) => (c.linux = { ...c.linux, seccomp })), '/b');
    expect(parseConfig(minimal(() => {}), '/b')).toMatchObject({ ok: true, plan: { seccomp: null } });
    const r = withSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    expect(r.ok && r.plan.seccomp).toMatchObject({ defaultAction: 0x50001, rules: [{ names: ['read'], action: 0x7fff0000, args: [] }] });
    const bad = withSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1.5 }] }] });
    expect(!bad.ok && bad.error).toBe('config.json: linux.seccomp.syscalls[0].args[0].value: must be an integer from 0 to 2^64-1');
    expect(withSeccomp('strict')).toEqual({ ok: false, error: 'config.json: linux.seccomp: must be an object' });
  });

  it('refuses process.user ids outside 0..2^32-2 (2^32 would be uid 0, 2^32-1 "unchanged")', () => {
    for (const [patch, field] of [
      [(c: any) => (c.process.user = { uid: 4294967296, gid: 0 }), 'process.user.uid'],
      [(c: any) => (c.process.user = { uid: 4294967295, gid: 0 }), 'process.user.uid'],
      [(c: any) => (c.process.user = { uid: 0, gid: 4294967295 }), 'process.user.gid'],
      [(c: any) => (c.process.user = { uid: 0, gid: 0, additionalGids: [1, 4294967296] }), 'process.user.additionalGids[1]'],
      [(c: any) => (c.process.user = { uid: -1, gid: 0 }), 'process.user.uid'],
    ] as const) {
      const r = parseConfig(minimal(patch), '/b');
      expect(r.ok ? 'accepted' : r.error).toBe(`config.json: ${field}: must be an integer from 0 to 4294967294`);
    }
    const r = parseConfig(minimal((c) => (c.process.user = { uid: 4294967294, gid: 4294967294, additionalGids: [4294967294] })), '/b');
    expect(r.ok && r.plan.process).toMatchObject({ uid: 4294967294, gid: 4294967294, additionalGids: [4294967294] });
  });

  it('cleans mount destinations lexically as docker and runc do: `..` never leaves the root', () => {
    const dests = ['/../../x', '/a/../../b/./c/', '//dev//shm', '/data/..', '/x/y/../z'];
    const r = parseConfig(minimal((c) => (c.mounts = dests.map((destination) => ({ destination, type: 'tmpfs', source: 'tmpfs' })))), '/b');
    expect(r.ok && r.plan.mounts.map((m) => m.destination)).toEqual(['/x', '/b/c', '/dev/shm', '/', '/x/z']);
  });

  it('says where and why config.json is not JSON, never quoting its content', () => {
    const secret = 'hunter2-SECRET';
    for (const [text, where] of [
      [`{"a": ["PW=${secret}", x]}`, 'line 1 column 29: unexpected character'],
      ['[1, tru]', 'line 1 column 8: unexpected character'],
      [`{\n  "env": ["PW=${secret}"],\n  "args": [1 2]\n}`, "line 3 column 14: expected ',' or ']' after array element"],
      [`{"env": ["PW=${secret}`, 'line 1 column 28: unterminated string'],
      [`{"env": ["PW=${secret}"]`, "line 1 column 30: expected ',' or '}' after property value"],
      [`{"a": "${secret}"} ${secret}`, 'line 1 column 25: unexpected non-whitespace character after JSON'],
      [`${secret}`, 'line 1 column 1: unexpected character'],
      ['', 'line 1 column 1: unexpected end of the file'],
    ]) {
      const r = parseConfig(text, '/b');
      expect(r.ok ? 'parsed' : r.error, text).toBe(`config.json: (file): not valid JSON at ${where}`);
    }
  });

  it('linux.cgroupsPath, which every engine sends, is read (never named as unsupported)', () => {
    const r = parseConfig(minimal((c) => (c.linux = { cgroupsPath: '/default/t1' })), '/b');
    expect(r.ok && r.unsupported).toEqual([]);
  });
});

describe('linux.cgroupsPath: where an OCI create makes the cgroup', () => {
  it('takes the engines\' forms: the last component is the cgroup, the rest its parent', () => {
    expect(cgroupPlace('/default/t1', 't1')).toEqual({ parent: 'default', name: 't1' });
    expect(cgroupPlace('/libpod_parent/libpod-abc', 'abc')).toEqual({ parent: 'libpod_parent', name: 'libpod-abc' });
    expect(cgroupPlace('a/b/c/', 'x')).toEqual({ parent: 'a/b', name: 'c' });
    expect(cgroupPlace('/solo', 'x')).toEqual({ parent: 'tini-ts', name: 'solo' });
    expect(cgroupPlace(undefined, 'x')).toEqual({ parent: 'tini-ts', name: 'oci-x' });
    expect(cgroupPlace('', 'x')).toEqual({ parent: 'tini-ts', name: 'oci-x' });
  });

  it('refuses a path that leaves the hierarchy, control characters, systemd\'s slice form and non-strings, in one line', () => {
    for (const [v, why] of [
      ['/../../etc/x', "'..' is not allowed"],
      ['/default/../../x', "'..' is not allowed"],
      ['/a//b', 'empty or'],
      ['/a/./b', 'empty or'],
      ['/a/b\nc', 'control characters'],
      ['system.slice:docker:abc', 'slice:prefix:name'],
      [42, 'must be a string'],
    ] as const) {
      const r = cgroupPlace(v, 'x');
      expect('error' in r && r.error, String(v)).toContain(why);
      expect('error' in r && r.error.startsWith('config.json: linux.cgroupsPath: ')).toBe(true);
      expect('error' in r && r.error.includes('\n')).toBe(false);
    }
  });
});
