/**
 * node test/vm/run.ts [--quiet] -- 'SHELL COMMAND'
 * Builds the guest if needed, runs the command inside (cgroup v2 only, in the
 * repository, as root), prints its output (the guest's console as it goes,
 * unless --quiet) and exits with its status (125 when the guest failed).
 */
import { buildImage, runInVm } from './vm.ts';

const args = process.argv.slice(2);
const quiet = args[0] === '--quiet' ? (args.shift(), true) : false;
if (args[0] === '--') args.shift();
if (args.length === 0) {
  process.stderr.write("usage: node test/vm/run.ts [--quiet] -- 'SHELL COMMAND'\n");
  process.exit(2);
}
buildImage();
const r = await runInVm(args.join(' '), { onConsole: quiet ? undefined : (s: string) => void process.stderr.write(s) });
if (quiet) process.stdout.write(r.output);
process.stderr.write(`tini-ts-vm: ${r.accel}, ${r.seconds.toFixed(1)} s, status ${r.status}${r.error ? `: ${r.error}` : ''}\n`);
process.exit(r.status ?? 125);
