import { describe, expect, it } from 'vitest';
import { capsAfterExec } from '../../src/runtime/workload.js';
import {
  CAPABILITIES, DOCKER_DEFAULT_CAPS, capabilityMask, capabilityNumber, capabilityWords, normalizeCapability, resolveCapabilities,
} from '../../src/libc/capabilities.js';

describe('capabilities', () => {
  it('numbers follow the kernel header', () => {
    expect(capabilityNumber('CHOWN')).toBe(0);
    expect(capabilityNumber('SYS_ADMIN')).toBe(21);
    expect(capabilityNumber('AUDIT_WRITE')).toBe(29);
    expect(capabilityNumber('SETFCAP')).toBe(31);
    expect(capabilityNumber('CHECKPOINT_RESTORE')).toBe(40);
    expect(CAPABILITIES).toHaveLength(41);
  });

  it("Docker's default set is the 14 capabilities, mask 0xa80425fb", () => {
    expect(DOCKER_DEFAULT_CAPS).toHaveLength(14);
    // what `docker run debian grep CapEff /proc/self/status` prints
    expect(capabilityMask(DOCKER_DEFAULT_CAPS)).toBe(0xa80425fbn);
    expect(capabilityWords(DOCKER_DEFAULT_CAPS)).toEqual([0xa80425fb, 0]);
  });

  it('normalizes names', () => {
    expect(normalizeCapability('cap_net_admin')).toBe('NET_ADMIN');
    expect(normalizeCapability(' sys_time ')).toBe('SYS_TIME');
    expect(normalizeCapability('all')).toBe('ALL');
    expect(normalizeCapability('NOPE')).toBeUndefined();
  });

  it('adds and drops like docker run', () => {
    const r = resolveCapabilities(['NET_ADMIN'], ['MKNOD', 'cap_kill']);
    expect(r.ok && r.caps).toEqual(expect.arrayContaining(['NET_ADMIN', 'CHOWN']));
    expect(r.ok && r.caps.includes('MKNOD')).toBe(false);
    expect(r.ok && r.caps.includes('KILL')).toBe(false);
    const none = resolveCapabilities([], ['ALL']);
    expect(none.ok && none.caps).toEqual([]);
    const onlyChown = resolveCapabilities(['CHOWN'], ['ALL']);
    expect(onlyChown.ok && onlyChown.caps).toEqual(['CHOWN']);
    const all = resolveCapabilities(['ALL'], []);
    expect(all.ok && all.caps).toHaveLength(41);
  });

  it('names the unknown capability and the flag', () => {
    expect(resolveCapabilities(['SYS_FOO'], [])).toEqual({ ok: false, error: "--cap-add: unknown capability 'SYS_FOO'" });
    expect(resolveCapabilities([], ['x'])).toEqual({ ok: false, error: "--cap-drop: unknown capability 'x'" });
  });
});

describe("capsAfterExec: the sets the workload's exec leaves it, which the init takes on", () => {
  const sets = { bounding: ['CHOWN', 'KILL', 'NET_RAW'], effective: ['CHOWN'], permitted: ['CHOWN', 'KILL'], inheritable: ['KILL'], ambient: ['KILL', 'NET_RAW'] };

  it('root: the bounding set (with inheritable and ambient) becomes permitted and effective', () => {
    const r = capsAfterExec(sets, 0);
    expect(r.permitted.sort()).toEqual(['CHOWN', 'KILL', 'NET_RAW']);
    expect(r.effective).toEqual(r.permitted);
    expect(r.inheritable).toEqual(['KILL']);
    expect(r.bounding).toEqual(sets.bounding);
  });

  it('anyone else: only the ambient capabilities the kernel raises (permitted and inheritable too)', () => {
    const r = capsAfterExec(sets, 1000);
    expect(r.ambient).toEqual(['KILL']); // NET_RAW is neither permitted nor inheritable
    expect(r.permitted).toEqual(['KILL']);
    expect(r.effective).toEqual(['KILL']);
    expect(capsAfterExec({ ...sets, ambient: [] }, 1000).permitted).toEqual([]);
  });
});
