/**
 * Controllable time for the supervisor shell, on top of vitest's fake timers
 * (the shell schedules with the global setTimeout/setInterval and reads the
 * time through its `now()` dependency).
 *
 * `lagMs` makes `now()` read behind the timers, as Node's clock can: its
 * timers count whole milliseconds from the loop's cached time, so a timer may
 * run while performance.now() is still a little short of its deadline.
 */
import { vi } from 'vitest';

export interface FakeClock {
  /** Milliseconds since install, minus lagMs. */
  now(): number;
  /** Moves time on, running every timer that falls due on the way. */
  advance(ms: number): void;
  /** Timers (and intervals) still scheduled. */
  pendingTimers(): number;
  lagMs: number;
  uninstall(): void;
}

export function installFakeClock(options: { lagMs?: number } = {}): FakeClock {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const origin = Date.now();
  const clock: FakeClock = {
    lagMs: options.lagMs ?? 0,
    now: () => Date.now() - origin - clock.lagMs,
    advance: (ms) => {
      vi.advanceTimersByTime(ms);
    },
    pendingTimers: () => vi.getTimerCount(),
    uninstall: () => {
      vi.clearAllTimers();
      vi.useRealTimers();
    },
  };
  return clock;
}
