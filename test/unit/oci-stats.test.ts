/**
 * runc's `events` stats from fake cgroupfs trees (v1 and v2): the fields and
 * the kernel's digits kept exact (u64 values do not fit a double).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eachTempDir, put } from '../helpers/fake-cgroup.js';
import { ociStats, oomKills } from '../../src/cgroup/oci-stats.js';

let root: string;
eachTempDir('tini-ts-ocistats-', (d) => (root = d));

describe('events stats', () => {
  it('v1: cpuacct, cpu, memory, pids and blkio in runc\'s shape, u64 digits exact', () => {
    const d = (c: string) => path.join(root, c, 'tini-ts', 'oci-c1');
    put(path.join(d('cpuacct'), 'cpuacct.usage'), '123456789\n');
    put(path.join(d('cpuacct'), 'cpuacct.usage_percpu'), '100 200 \n');
    put(path.join(d('cpuacct'), 'cpuacct.stat'), 'user 3\nsystem 2\n');
    put(path.join(d('cpu'), 'cpu.stat'), 'nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n');
    put(path.join(d('memory'), 'memory.limit_in_bytes'), '9223372036854771712\n');
    put(path.join(d('memory'), 'memory.usage_in_bytes'), '4096\n');
    put(path.join(d('memory'), 'memory.max_usage_in_bytes'), '8192\n');
    put(path.join(d('memory'), 'memory.failcnt'), '0\n');
    put(path.join(d('memory'), 'memory.stat'), 'cache 1024\nrss 2048\n');
    put(path.join(d('memory'), 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    put(path.join(d('pids'), 'pids.current'), '3\n');
    put(path.join(d('pids'), 'pids.max'), 'max\n');
    put(path.join(d('blkio'), 'blkio.throttle.io_service_bytes'), '8:0 Read 512\n8:0 Write 0\nTotal 512\n');
    const dirs = ['cpuacct', 'cpu', 'memory', 'pids', 'blkio'].map(d);
    expect(JSON.parse(JSON.stringify(ociStats(root, 1, dirs)))).toEqual({
      cpu: { usage: { total: 123456789, percpu: [100, 200], kernel: 20000000, user: 30000000 }, throttling: { periods: 10, throttledPeriods: 4, throttledTime: 5000 } },
      memory: { cache: 1024, usage: { limit: 9223372036854771712, usage: 4096, max: 8192, failcnt: 0 }, swap: {}, kernel: {}, raw: { cache: 1024, rss: 2048 } },
      pids: { current: 3 },
      blkio: { ioServiceBytesRecursive: [{ major: 8, minor: 0, op: 'Read', value: 512 }, { major: 8, minor: 0, op: 'Write', value: 0 }], ioServicedRecursive: [] },
    });
    expect(JSON.stringify(ociStats(root, 1, dirs))).toContain('"limit":9223372036854771712,');
    expect(oomKills(root, 1, dirs)).toBe(2);
  });

  it('v2: one directory; an unlimited memory.max is the largest u64, as runc says it', () => {
    const d = path.join(root, 'docker', 'c1');
    put(path.join(d, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\nnr_throttled 0\nthrottled_usec 7\n');
    put(path.join(d, 'memory.current'), '4096\n');
    put(path.join(d, 'memory.max'), 'max\n');
    put(path.join(d, 'memory.events'), 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n');
    put(path.join(d, 'memory.stat'), 'anon 100\nfile 200\n');
    put(path.join(d, 'pids.current'), '2\n');
    put(path.join(d, 'pids.max'), '64\n');
    put(path.join(d, 'io.stat'), '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n');
    const s = ociStats(root, 2, [d]);
    expect(JSON.stringify((s.memory as { usage: unknown }).usage)).toBe('{"limit":18446744073709551615,"usage":4096,"failcnt":5}');
    expect((s.cpu as { throttling: object }).throttling).not.toHaveProperty('periods'); // runc's omitempty
    expect(JSON.parse(JSON.stringify(s))).toMatchObject({
      cpu: { usage: { total: 1500000, kernel: 500000, user: 1000000 }, throttling: { throttledTime: 7000 } },
      memory: { cache: 200, swap: {}, raw: { anon: 100, file: 200 } },
      pids: { current: 2, limit: 64 },
      blkio: {
        ioServiceBytesRecursive: [{ major: 8, minor: 0, op: 'Read', value: 10 }, { major: 8, minor: 0, op: 'Write', value: 20 }],
        ioServicedRecursive: [{ major: 8, minor: 0, op: 'Read', value: 1 }, { major: 8, minor: 0, op: 'Write', value: 2 }],
      },
    });
    expect(oomKills(root, 2, [d])).toBe(1);
    expect(oomKills(root, 2, [path.join(root, 'gone')])).toBeNull();
  });
});
