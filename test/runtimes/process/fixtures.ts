/** Small C programs for the process runtime's tests, compiled static with musl-gcc (Debian musl-tools). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupSetup } from '../../../src/runtimes/process/cgroup.js';
import { tempDir } from '../../temp-dir.js';

const SOURCES = {
  // Describes its own world: environment, working directory and its entries, open descriptors.
  probe: `#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
extern char **environ;
int main(void){char cwd[4096]; if(!getcwd(cwd,sizeof cwd)) return 9;
printf("{\\"env\\":["); for(char**e=environ;*e;e++) printf("%s\\"%s\\"", e==environ?"":",", *e);
printf("],\\"cwd\\":\\"%s\\",\\"entries\\":", cwd); int n=0; DIR*d=opendir("."); struct dirent*x; while((x=readdir(d))) n++; closedir(d); printf("%d", n-2);
printf(",\\"fds\\":["); d=opendir("/proc/self/fd"); int own=dirfd(d), first=1; while((x=readdir(d))){ if(x->d_name[0]=='.') continue; int fd=atoi(x->d_name); if(fd==own) continue; printf("%s%d", first?"":",", fd); first=0;} closedir(d);
printf("]}\\n"); FILE*f=fopen("scratch.txt","w"); if(f){fputs("x",f); fclose(f);} return 0;}`,
  // Forks a grandchild that sleeps forever; input "exit": prints both pids and exits, else says them on stderr and sleeps.
  forker: `#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void){char in[16]={0}; fread(in,1,15,stdin); pid_t c=fork(); if(c==0){for(;;) sleep(1);}
if(strstr(in,"exit")) {printf("[%d,%d]\\n",(int)getpid(),(int)c); return 0;}
fprintf(stderr,"[%d,%d]\\n",(int)getpid(),(int)c); fflush(stderr); for(;;) sleep(1);}`,
  hog: `#include <stdlib.h>
#include <string.h>
#include <stdio.h>
char *volatile keep;
int main(void){for(;;){char*p=malloc(1<<20); if(!p){fprintf(stderr,"hog: out of memory\\n"); return 3;} memset(p,1,1<<20); keep=p;}}`,
  spin: `int main(void){volatile unsigned long i=0; for(;;) i++; return 0;}`,
  sleeper: `#include <unistd.h>
int main(void){for(;;) sleep(1);}`,
  chatty: `#include <stdio.h>
int main(void){for(int i=0;i<100000;i++) fputs("0123456789",stdout); return 0;}`,
  bigfile: `#include <stdio.h>
#include <string.h>
int main(void){static char b[1<<16]; memset(b,'x',sizeof b); FILE*f=fopen("big","w"); for(int i=0;i<64;i++) if(fwrite(b,1,sizeof b,f)!=sizeof b) return 4; fclose(f); puts("wrote"); return 0;}`,
  aborts: `#include <stdlib.h>
int main(void){abort();}`,
  // Input [children, MiB]: forks that many children, each touching that much memory and holding it
  // for a second; says their pids on stderr, waits for them and prints how many failed.
  forkhog: `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void){int k=0,mib=0; if(scanf("[%d,%d]",&k,&mib)!=2) return 9;
for(int i=0;i<k;i++){pid_t c=fork(); if(c==0){size_t n=(size_t)mib<<20; volatile char*p=malloc(n); if(!p) return 3; for(size_t o=0;o<n;o+=4096) p[o]=1; sleep(1); return 0;} fprintf(stderr,"%d\\n",(int)c);}
int failed=0; for(int i=0;i<k;i++){int st; if(wait(&st)<0||!WIFEXITED(st)||WEXITSTATUS(st)) failed++;} printf("{\\"failed\\":%d}\\n",failed); return 0;}`,
  // Input "<ms>": forks a child that spins for that much CPU time, prints it (us, its own clock) and
  // exits; the parent waits for that exit without reaping the child, so its own rusage never counts it.
  cpukid: `#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void){int ms=0; if(scanf("%d",&ms)!=1) return 9; pid_t c=fork();
if(c==0){struct timespec t; long long us=0; volatile unsigned long i=0; while(us<ms*1000LL){for(int j=0;j<100000;j++) i++; clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t); us=t.tv_sec*1000000LL+t.tv_nsec/1000;} printf("%lld\\n",us); return 0;}
siginfo_t si; waitid(P_PID,(id_t)c,&si,WEXITED|WNOWAIT); return 0;}`,
  // Forks a child that leaves the function's session and process group (setsid), closes its stdio and
  // sleeps; prints that child's pid once it has left, and exits.
  escaper: `#include <stdio.h>
#include <unistd.h>
int main(void){int p[2]; if(pipe(p)) return 9; pid_t c=fork();
if(c==0){close(p[0]); setsid(); close(0); close(1); close(2); if(write(p[1],"x",1)!=1) return 1; close(p[1]); for(;;) sleep(1);}
close(p[1]); char x; if(read(p[0],&x,1)!=1) return 8; printf("%d\\n",(int)c); return 0;}`,
} as const;

export type Fixture = keyof typeof SOURCES;

/** Compiles every fixture into a fresh temp folder and returns their paths by name. */
export function buildFixtures(): { dir: string; bins: Record<Fixture, string> } {
  const dir = tempDir('process-test');
  const bins = {} as Record<Fixture, string>;
  for (const [name, src] of Object.entries(SOURCES) as Array<[Fixture, string]>) {
    writeFileSync(join(dir, `${name}.c`), src);
    execFileSync('musl-gcc', ['-static', '-O2', join(dir, `${name}.c`), '-o', join(dir, name)]);
    bins[name] = join(dir, name);
  }
  return { dir, bins };
}

/** The pids of running processes whose working directory is inside `dir`. */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readlinkSync(`/proc/${p}/cwd`).startsWith(dir)) pids.push(Number(p));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** The command name of a process (`nebula-exec`), or undefined when it is gone. */
export function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Run cgroups left behind: directories `nebula-exec-<pid>-<ns>` in the parents whose helper is no
 * longer running (a running helper's cgroup is in use). With `pid`, that helper's only, gone or not.
 */
export function leftoverCgroups(setup: CgroupSetup, pid?: number): string[] {
  return setup.parents.flatMap((p) =>
    readdirSync(p.dir)
      .filter((name) => {
        const owner = Number(/^nebula-exec-(\d+)-/.exec(name)?.[1] ?? NaN);
        return pid === undefined ? Number.isFinite(owner) && commandOf(owner) !== 'nebula-exec' : owner === pid;
      })
      .map((name) => join(p.dir, name)),
  );
}

/** Polls `done` every 50 ms until it holds or `ms` passed; returns whether it held. */
export async function until(done: () => boolean, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; !done();) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** True while a process with this pid exists and is not a zombie. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
