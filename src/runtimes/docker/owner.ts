/**
 * Who owns a container: every container carries the host name, pid and start time of the process
 * that created it, and the id of its DockerRuntime. A container whose owner is gone (the process
 * died, even by `kill -9`, or the runtime was closed) is a leftover that any runtime on the same
 * host may remove.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** On every container and image nebula-faas creates (`docker ps -a --filter label=nebula-faas`). */
export const LABEL = 'nebula-faas';
/** The function a container runs. */
export const FUNCTION_LABEL = 'nebula-faas.function';
/** `<host>/<pid>/<start>`: the owning process (start: its start time in clock ticks since boot, against pid reuse). */
const OWNER_LABEL = 'nebula-faas.owner';
/** The id of the owning DockerRuntime instance. */
export const RUNTIME_LABEL = 'nebula-faas.runtime';
/** Unique to one create call, to find a container whose creation answer was lost. */
export const CREATE_LABEL = 'nebula-faas.create';
/** How the container is used: `cold`, `prewarmed` or `warm`. */
export const MODE_LABEL = 'nebula-faas.mode';

/** The start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined when unknown. */
function startTicks(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This process's start time in clock ticks since boot (`?` when unknown): with its pid, it names the process. */
export const selfStart = startTicks('self') ?? '?';
const self = `${hostname()}/${process.pid}/${selfStart}`;
/** DockerRuntime instances of this process that are open. */
const open = new Set<string>();

/** A new runtime instance id, marked open until {@link closeInstance}. */
export function openInstance(): string {
  const id = randomUUID();
  open.add(id);
  return id;
}

export function closeInstance(id: string): void {
  open.delete(id);
}

/** The labels that make a container findable and sweepable. */
export function ownerLabels(instance: string): Record<string, string> {
  return { [LABEL]: '1', [OWNER_LABEL]: self, [RUNTIME_LABEL]: instance };
}

/** True when process `pid` of this host, started at `start` (clock ticks since boot), no longer runs. */
export function processGone(pid: number, start: string): boolean {
  const now = startTicks(pid);
  if (now !== undefined) return start !== '?' && now !== start;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * True when the container's owner is known to be gone: its process no longer runs on this host
 * (or its pid now belongs to another process), or it is this process and its runtime was closed.
 * Containers of other hosts, or without an owner label, are never judged gone.
 */
export function ownerGone(labels: Record<string, string> | undefined): boolean {
  const owner = labels?.[OWNER_LABEL];
  if (!owner) return false;
  if (owner === self) {
    const instance = labels?.[RUNTIME_LABEL];
    return instance !== undefined && !open.has(instance);
  }
  const [host, pid, start] = owner.split('/');
  if (host !== hostname() || !pid || !start || !/^\d+$/.test(pid)) return false;
  return processGone(Number(pid), start);
}
