/**
 * The cgroup hierarchies this process sees, from /proc/self/mountinfo: where each v1 controller
 * and the v2 (unified) hierarchy are mounted. Read by the Docker runtime (each container's CPU
 * time and memory) and by energy shares (the whole machine's CPU time).
 */
import { readFileSync } from 'node:fs';

/** Cgroup mounts of whole hierarchies (mounted at their root). */
export interface Hierarchies {
  /** v1 controller (`cpuacct`, `memory`, ...) to its mount point. */
  v1: Map<string, string>;
  /** The v2 (unified) mount point. */
  v2: string | undefined;
  /** Every cgroup mount point, v1 and v2. */
  all: string[];
}

/** Mount points hold spaces and tabs as octal escapes. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The hierarchies listed in a mountinfo text; mounts of a part of a hierarchy (root not `/`) are left out. */
export function parseMountinfo(text: string): Hierarchies {
  const h: Hierarchies = { v1: new Map(), v2: undefined, all: [] };
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const [type, , superOptions] = right.split(' ');
    const root = f[3];
    const point = f[4];
    if (root !== '/' || !point) continue;
    if (type === 'cgroup2') {
      h.v2 = unescape(point);
      h.all.push(h.v2);
    } else if (type === 'cgroup') {
      const mount = unescape(point);
      h.all.push(mount);
      for (const o of (superOptions ?? '').split(',')) h.v1.set(o, mount);
    }
  }
  return h;
}

let seen: Hierarchies | undefined;

/** This process's hierarchies (read once; none where /proc is missing). */
export function hierarchies(): Hierarchies {
  if (!seen) {
    try {
      seen = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    } catch {
      seen = { v1: new Map(), v2: undefined, all: [] };
    }
  }
  return seen;
}
