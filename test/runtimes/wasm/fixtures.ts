/** Small C programs compiled for the wasm tests with clang --target=wasm32-wasi (Debian clang, lld, wasi-libc). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOURCES = {
  echo: `#include <stdio.h>
int main(void){int c; while((c=getchar())!=EOF) putchar(c); return 0;}`,
  loop: `int main(void){volatile unsigned long i=0; for(;;) i++; return 0;}`,
  hog: `#include <stdlib.h>
#include <string.h>
#include <stdio.h>
char *volatile keep;
int main(void){for(;;){char*p=malloc(1<<20); if(!p){fprintf(stderr,"out of memory\\n"); return 1;} memset(p,1,1<<20); keep=p;}}`,
  exit3: `#include <stdio.h>
int main(void){fprintf(stderr,"something went wrong\\n"); return 3;}`,
  trap: `int main(void){__builtin_trap(); return 0;}`,
  env: `#include <stdio.h>
#include <stdlib.h>
int main(int argc,char**argv){const char*m=getenv("MODE"); printf("{\\"argc\\":%d,\\"mode\\":\\"%s\\",\\"fopen\\":%d}\\n",argc,m?m:"",fopen("/etc/passwd","r")!=0); return 0;}`,
  reactor: `int add(int a,int b){return a+b;}`,
  foreign: `extern int host_secret(void) __attribute__((import_module("env"),import_name("secret")));
int main(void){return host_secret();}`,
} as const;

export type Fixture = keyof typeof SOURCES;

/** Compiles every fixture into a temp dir and returns the bytes by name. */
export function buildFixtures(): Record<Fixture, Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'nebula-wasm-fixtures-'));
  const out = {} as Record<Fixture, Uint8Array>;
  for (const [name, src] of Object.entries(SOURCES) as Array<[Fixture, string]>) {
    const c = join(dir, `${name}.c`);
    const wasm = join(dir, `${name}.wasm`);
    writeFileSync(c, src);
    const args = ['--target=wasm32-wasi', '-O2', c, '-o', wasm];
    if (name === 'reactor') args.push('-mexec-model=reactor', '-Wl,--export=add');
    if (name === 'foreign') args.push('-Wl,--allow-undefined');
    execFileSync('clang', args, { stdio: 'pipe' });
    out[name] = readFileSync(wasm);
  }
  return out;
}
