/**
 * cgroup v1 freezer: joined by OCI containers (`pause`/`resume`, and the
 * `paused` status), as runc joins it. v2 freezes through cgroup.freeze, in
 * every cgroup, with no controller to enable.
 */
import type { Controller } from '../types.js';

export const name = 'freezer';

export const controller: Controller = { name, joined: (s) => s.freezable === true, applies: () => false };
