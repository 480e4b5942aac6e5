/** Texts printed by -h, -l and --version. VERSION and GIT_COMMIT are set by the build. */
import LICENSE_TEXT from '../LICENSE';

declare const TINI_TS_VERSION: string | undefined;
declare const TINI_TS_COMMIT: string | undefined;
declare const TINI_TS_ARCH: string | undefined;

export const VERSION = typeof TINI_TS_VERSION === 'string' ? TINI_TS_VERSION : '0.0.0-dev';
const COMMIT = typeof TINI_TS_COMMIT === 'string' ? TINI_TS_COMMIT : 'unknown';

/** The architectures the binary is built for, by Node's name, with the name releases and Docker's TARGETARCH use. */
export const ARCHS: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' };
/** The build's target (the binary's Node), as releases name it. */
export const ARCH = ARCHS[typeof TINI_TS_ARCH === 'string' ? TINI_TS_ARCH : process.arch] ?? process.arch;

/**
 * Why this machine cannot run tini-ts, or undefined. The binary is built per
 * architecture, so this only trips for the sources under another Node (the
 * prototypes and layouts in src/libc are those of x86_64 and aarch64 glibc).
 */
export function unsupportedArch(arch: string, platform: string): string | undefined {
  if (platform !== 'linux') return `tini-ts runs on Linux only, not ${platform}`;
  if (!ARCHS[arch]) return `tini-ts is built for linux/amd64 and linux/arm64 only, not ${arch}`;
  return undefined;
}

/** `docker info` parses `tini version X - git.Y` from `docker-init --version`. */
export const VERSION_LINE = `tini version ${VERSION} (tini-ts linux/${ARCH}) - git.${COMMIT}`;

export const LICENSE: string = LICENSE_TEXT;

export const USAGE = `tini-ts ${VERSION} - a minimal init for containers (a drop-in for tini)

Usage: tini-ts [OPTIONS] [--] PROGRAM [ARGS...]

Runs PROGRAM in a process group of its own, forwards every catchable signal
to that group, reaps every zombie and exits with PROGRAM's status (128+N if
a signal N killed it).

Options:
  --grace SECONDS  After a forwarded SIGTERM or SIGINT, give the process group
                   SECONDS to exit, then SIGKILL it (default: wait forever)
  --stop-delay SECONDS
                   Hold a received SIGTERM or SIGINT back that long before
                   forwarding it (a load balancer deregisters meanwhile); a
                   second one is forwarded at once; --grace counts from the
                   forward
  --timeout DURATION
                   Stop PROGRAM after DURATION (30s, 10m, 1h30m, 500ms): SIGTERM
                   to the group, then SIGKILL after --grace (10s without it)
  --map FROM:TO    Forward signal FROM as TO, or drop it with TO = ignore
                   (repeatable; e.g. --map USR1:USR2 --map HUP:ignore);
                   not KILL, STOP or CHLD
  --user USER[:GROUP]
                   Run PROGRAM (and --pre-stop) as USER (name or id), with its
                   primary group or GROUP and its supplementary groups from
                   /etc/passwd and /etc/group; the init stays as it is
  --pre-stop CMD   On the first SIGTERM or SIGINT, run /bin/sh -c CMD before
                   anything else (then --stop-delay, then the forward); it
                   gets the grace period (10s without --grace), then SIGKILL
  --stop-scope group|all
                   Who gets the stop: the process group of PROGRAM (group, the
                   default, as tini), or every process the init can reach
                   (all: its pid namespace as PID 1, its descendants as a
                   subreaper), in stages: the group first, the others when
                   PROGRAM exits or after half the grace period, SIGKILL to
                   all at its end (10s without --grace); the init exits once
                   all are gone
  --exit-on-stop CODE
                   Exit CODE when PROGRAM ended by the stop signal the init
                   forwarded (killed by it, or exit 128+N as the JVM's 143);
                   a crash keeps its code
  --termination-log FILE
                   At exit, write why PROGRAM ended to FILE (the Kubernetes
                   termination message; default: /dev/termination-log when
                   it exists)
  --events DEST    Write supervision events as JSON lines to DEST: a file
                   (appended), fd:N or - (stderr); see src/events/EVENTS.md
  -s               Register as a child subreaper (when not running as PID 1)
  -p SIGNAL        Get SIGNAL when the parent of tini-ts dies (PR_SET_PDEATHSIG)
  -e EXIT_CODE     Turn EXIT_CODE of PROGRAM into 0 (repeatable)
  -g               Signal the process group (accepted; it is the default)
  -v               More verbose (repeatable, up to 4)
  -w               Warn for every zombie reaped that was not PROGRAM
  -l               Show the license and exit
  -h, --help       Show this help and exit
  --version        Show the version (in tini's format) and exit

Environment:
  TINI_SUBREAPER            Set (to anything): as -s
  TINI_KILL_PROCESS_GROUP   Set: as -g
  TINI_VERBOSITY=N          Verbosity level (overrides -v)
  TINI_GRACE=SECONDS        As --grace (the flag wins)
  TINI_EVENTS=DEST          As --events (the flag wins)
  TINI_STOP_DELAY=SECONDS   As --stop-delay (the flag wins)
  TINI_TIMEOUT=DURATION     As --timeout (the flag wins)
  TINI_TERMINATION_LOG=FILE As --termination-log (the flag wins)
  TINI_PRE_STOP=CMD         As --pre-stop (the flag wins)
  TINI_USER=USER[:GROUP]    As --user (the flag wins)
  TINI_STOP_SCOPE=group|all As --stop-scope (the flag wins)
  TINI_EXIT_ON_STOP=CODE    As --exit-on-stop (the flag wins)
  TINI_MAP="FROM:TO,..."    As --map, rules separated by commas or spaces
                            (any --map replaces them all)

Exit status: PROGRAM's, or 128+N for a death by signal N; 127 when PROGRAM
is not found, 126 when it cannot be executed, 1 for a usage error.
`;
