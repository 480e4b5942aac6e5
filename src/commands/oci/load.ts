/** A container of the store with its status now, or the runc error that engines match on. */
import fs from 'node:fs';
import { cgroupFrozen, procStartTime, statusOf, type ContainerRecord, type Status } from '../../container/store.js';
import type { OciContext } from './context.js';

export function loadContainer(id: string, ctx: OciContext): { rec: ContainerRecord; status: Status } {
  const rec = ctx.store.read(id);
  if (!rec) return ctx.fail('container does not exist');
  return { rec, status: currentStatus(rec, ctx) };
}

export function currentStatus(rec: ContainerRecord, ctx: OciContext): Status {
  return statusOf(rec, { startTimeOf: procStartTime, fifoExists: fs.existsSync(ctx.store.fifo(rec.id)), frozen: cgroupFrozen(rec.cgroupDirs) });
}
