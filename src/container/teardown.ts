/** What to undo of a container, whatever the path out: the init, every process of its cgroup, the cgroup, the state directory. */
import type { Cgroup } from '../cgroup/types.js';
import { render } from '../libc/error.js';
import type { Logger } from '../log/log.js';

/** How long after SIGKILLing everything to wait for the processes before giving up on them. */
export const BACKSTOP_MS = 2000;

/** What to undo, whatever the path out: kill everything, then remove the cgroup. */
export class Teardown {
  cgroupCreated = false;
  initPid: number | null = null;
  /** Null until the cgroup is opened (the init is started before it). */
  cgroup: Cgroup | null = null;
  /** The container's state directory (removed once the init and its mount namespace are gone). */
  state: import('../runtime/container.js').ContainerState | null = null;
  constructor(
    private readonly logger: Logger,
    /** Blocking wait for a killed init that may not be in the cgroup yet (it joins it itself). */
    private readonly waitInit: (pid: number) => unknown,
  ) {}

  run(): boolean {
    let ok = true;
    if (this.initPid !== null) {
      try {
        process.kill(this.initPid, 'SIGKILL');
        // Gone with its namespaces before anything it could hold is removed.
        this.waitInit(this.initPid);
      } catch {
        // gone already
      }
      this.initPid = null;
    }
    const cgroup = this.cgroup;
    if (!this.cgroupCreated || cgroup === null) return this.removeState() && ok;
    if (!cgroup.killAll(BACKSTOP_MS)) {
      this.logger.log('warn', `processes survive in ${cgroup.dirs.join(', ')}`);
      ok = false;
    }
    if (!cgroup.remove()) {
      this.logger.log('warn', `could not remove ${cgroup.dirs.join(', ')}`);
      ok = false;
    }
    this.cgroupCreated = false;
    return this.removeState() && ok;
  }

  private removeState(): boolean {
    if (!this.state) return true;
    const problems = this.state.remove();
    for (const p of problems) this.logger.log('warn', render(p));
    this.state = null;
    return problems.length === 0;
  }
}

