/** The check command's outputs: a table for people, JSON and JUnit XML for machines. */
import type { ScenarioReport } from './verdict.js';

export function table(program: string[], reports: ScenarioReport[]): string {
  const rows = reports.map((r) => [r.scenario, r.verdict === 'healthy' ? 'PASS' : r.verdict === 'skipped' ? 'SKIP' : 'FAIL', r.summary]);
  const w0 = Math.max(8, ...rows.map((r) => r[0].length));
  const lines = [`tini-ts check: ${program.join(' ')}`, '', `${'SCENARIO'.padEnd(w0)}  VERDICT  EVIDENCE`];
  for (const [i, r] of rows.entries()) {
    lines.push(`${r[0].padEnd(w0)}  ${r[1].padEnd(7)}  ${r[2]}`);
    const rep = reports[i];
    for (const p of rep.problems.slice(1)) lines.push(`${''.padEnd(w0)}           - ${p}`);
    const ev = Object.entries(rep.evidence)
      .filter(([k, v]) => v !== null && k !== 'mode')
      .map(([k, v]) => `${k}=${typeof v === 'string' && v.includes(' ') ? JSON.stringify(v) : v}`)
      .join(' ');
    if (ev) lines.push(`${''.padEnd(w0)}           ${ev}`);
  }
  const bad = reports.filter((r) => r.verdict === 'unhealthy').length;
  lines.push('', bad === 0 ? `all ${reports.length} scenario(s) healthy` : `${bad} of ${reports.length} scenario(s) unhealthy`);
  if (reports[0]) lines.push(`(${String(reports[0].evidence.mode)})`);
  return lines.join('\n') + '\n';
}

export function json(program: string[], reports: ScenarioReport[]): string {
  return JSON.stringify(
    {
      version: 1,
      program,
      healthy: reports.every((r) => r.verdict !== 'unhealthy'),
      scenarios: reports.map((r) => ({ name: r.scenario, verdict: r.verdict, summary: r.summary, problems: r.problems, evidence: r.evidence, events: r.events })),
    },
    null,
    2,
  ) + '\n';
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 has no place for most control characters.
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');

export function junit(program: string[], reports: ScenarioReport[], secondsOf: (r: ScenarioReport) => number): string {
  const failures = reports.filter((r) => r.verdict === 'unhealthy').length;
  const skipped = reports.filter((r) => r.verdict === 'skipped').length;
  const total = reports.reduce((a, r) => a + secondsOf(r), 0);
  const name = esc(`tini-ts check ${program.join(' ')}`);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${name}" tests="${reports.length}" failures="${failures}" skipped="${skipped}" time="${total.toFixed(3)}">`,
    `  <testsuite name="${name}" tests="${reports.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${total.toFixed(3)}">`,
  ];
  for (const r of reports) {
    out.push(`    <testcase classname="tini-ts.check" name="${esc(r.scenario)}" time="${secondsOf(r).toFixed(3)}">`);
    if (r.verdict === 'unhealthy') out.push(`      <failure message="${esc(r.summary)}">${esc(r.problems.join('\n'))}</failure>`);
    if (r.verdict === 'skipped') out.push(`      <skipped message="${esc(r.summary)}"/>`);
    out.push(`      <system-out>${esc(JSON.stringify(r.evidence))}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n') + '\n';
}
