/** Whether a Docker engine answers; with NEBULA_REQUIRE_DOCKER=1 a missing engine fails the suite instead of skipping it. */
import { execFileSync } from 'node:child_process';

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    if (process.env.NEBULA_REQUIRE_DOCKER === '1')
      throw new Error('NEBULA_REQUIRE_DOCKER=1 but no Docker engine answers (`docker info` failed): start dockerd.');
    console.warn('Docker tests skipped: no Docker engine answers (`docker info` failed). Set NEBULA_REQUIRE_DOCKER=1 to make this an error.');
    return false;
  }
}

/** IDs of containers nebula-faas created that still exist. */
export function leftovers(): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', 'label=nebula-faas'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** Waits until no nebula-faas container is left (removal runs after the result), up to `ms`. */
export async function noLeftovers(ms = 15_000): Promise<string[]> {
  const end = Date.now() + ms;
  let left = leftovers();
  while (left.length && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    left = leftovers();
  }
  return left;
}
