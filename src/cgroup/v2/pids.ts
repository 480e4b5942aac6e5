/**
 * cgroup v2 pids controller: the same files as v1 (pids.max, pids.current,
 * pids.peak, pids.events), so the same code.
 */
export { name, apply, current, stats, controller } from '../v1/pids.js';
