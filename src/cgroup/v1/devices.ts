/**
 * cgroup v1 devices controller: which device nodes the workload may open
 * (read, write) or create (mknod). Rules apply in order, as runc applies
 * linux.resources.devices followed by its default allow list; a rule for
 * every device ('a') resets the default and clears the exceptions.
 */
import path from 'node:path';
import { writeFile } from '../fsutil.js';
import type { Controller, DeviceRule, LinuxResources } from '../types.js';

export const name = 'devices';

const rule = (type: 'c' | 'b', major: number | null, minor: number | null, access: string): DeviceRule => ({ allow: true, type, major, minor, access });

/** Deny everything (the first rule docker and `runc spec` give). */
export const DENY_ALL: DeviceRule = { allow: false, type: 'a', major: null, minor: null, access: 'rwm' };

/** runc's default allow list (libcontainer/specconv AllowedDevices), plus /dev/console. */
export const DEFAULT_ALLOWED: readonly DeviceRule[] = [
  rule('c', null, null, 'm'), // mknod of any device (opening it is another matter)
  rule('b', null, null, 'm'),
  rule('c', 1, 3, 'rwm'), // /dev/null
  rule('c', 1, 8, 'rwm'), // /dev/random
  rule('c', 1, 7, 'rwm'), // /dev/full
  rule('c', 5, 0, 'rwm'), // /dev/tty
  rule('c', 1, 5, 'rwm'), // /dev/zero
  rule('c', 1, 9, 'rwm'), // /dev/urandom
  rule('c', 5, 1, 'rwm'), // /dev/console
  rule('c', 136, null, 'rwm'), // /dev/pts/*
  rule('c', 5, 2, 'rwm'), // /dev/ptmx
  rule('c', 10, 200, 'rwm'), // /dev/net/tun
];

const same = (a: DeviceRule, b: DeviceRule) => a.type === b.type && a.major === b.major && a.minor === b.minor && a.access === b.access;

/** The outcome of the rules: the default for every device, and the exceptions to it. */
export function effectiveRules(rules: readonly DeviceRule[]): { allowByDefault: boolean; exceptions: DeviceRule[] } {
  let allowByDefault = true;
  let exceptions: DeviceRule[] = [];
  for (const r of rules) {
    if (r.type === 'a') {
      allowByDefault = r.allow;
      exceptions = [];
    } else if (r.allow === allowByDefault) {
      exceptions = exceptions.filter((e) => !same(e, r));
    } else if (!exceptions.some((e) => same(e, r))) {
      exceptions.push(r);
    }
  }
  return { allowByDefault, exceptions };
}

/** `c 1:3 rwm`, `b *:* m` */
export function ruleLine(r: DeviceRule): string {
  return `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`;
}

export function apply(dir: string, r: LinuxResources): void {
  if (r.devices === undefined) return;
  const { allowByDefault, exceptions } = effectiveRules(r.devices);
  const [reset, except] = allowByDefault ? ['devices.allow', 'devices.deny'] : ['devices.deny', 'devices.allow'];
  writeFile(path.join(dir, reset), 'a', 'the device rules');
  for (const e of exceptions) writeFile(path.join(dir, except), ruleLine(e), 'the device rules');
}

export const controller: Controller = { name, joined: (s) => s.devices !== undefined, applies: (r) => r.devices !== undefined, apply };
