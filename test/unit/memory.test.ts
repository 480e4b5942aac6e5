/** The init's memory cgroup over a fake /sys/fs/cgroup: which directory, the OOM kills since start, peak and limit. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryCgroupDir, oomKillCount, watchMemory } from '../../src/supervisor/memory.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fakecg-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
};

describe('memory cgroup', () => {
  it('v1: the memory line\'s path under the mount; the kills since the watch began, peak, limit (unlimited: null)', () => {
    write('memory/docker/abc/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    write('memory/docker/abc/memory.max_usage_in_bytes', '1048576\n');
    write('memory/docker/abc/memory.limit_in_bytes', '9223372036854771712\n');
    const w = watchMemory('5:pids:/docker/abc\n4:memory:/docker/abc\n0::/\n', root)!;
    expect(w.read()).toEqual({ oomKills: 0, peakBytes: 1048576, limitBytes: null });
    write('memory/docker/abc/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    write('memory/docker/abc/memory.limit_in_bytes', '134217728\n');
    expect(w.read()).toEqual({ oomKills: 1, peakBytes: 1048576, limitBytes: 134217728 });
  });

  it('v1 inside a container that mounts its own cgroup at the top: the mount\'s root', () => {
    write('memory/memory.oom_control', 'oom_kill 0\n');
    expect(memoryCgroupDir('4:memory:/docker/abc\n', root)).toEqual({ dir: `${root}/memory`, v: 1 });
  });

  it('v2: memory.events, memory.peak, memory.max', () => {
    write('cgroup.controllers', 'memory pids\n');
    write('kubepods/pod1/memory.events', 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    write('kubepods/pod1/memory.peak', '2048\n');
    write('kubepods/pod1/memory.max', 'max\n');
    const w = watchMemory('0::/kubepods/pod1\n', root)!;
    write('kubepods/pod1/memory.events', 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n');
    expect(w.read()).toEqual({ oomKills: 1, peakBytes: 2048, limitBytes: null });
  });

  it('nothing readable (no memory controller, no oom_kill line on an old kernel): null', () => {
    expect(watchMemory('0::/\n', root)).toBeNull();
    write('memory/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\n');
    expect(watchMemory('4:memory:/\n', root)).toBeNull();
    expect(watchMemory(null, root)).toBeNull();
    expect(oomKillCount('oom_kill x')).toBeNull();
  });
});
