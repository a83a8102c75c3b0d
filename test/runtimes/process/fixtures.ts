/** Small C programs for the process runtime's tests, compiled static with musl-gcc (Debian musl-tools). */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
