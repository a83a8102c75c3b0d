/**
 * Small programs for the wasm tests: C compiled with clang --target=wasm32-wasi (Debian clang,
 * lld, wasi-libc), and a few hand-written modules and components (text format, assembled with
 * jco's wasm-tools `parse`) for what C cannot express: start functions, declared memory sizes,
 * native WASI 0.2 components.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from '@bytecodealliance/jco';

const run = promisify(execFile);

const SOURCES = {
  echo: `#include <stdio.h>
int main(void){int c; while((c=getchar())!=EOF) putchar(c); return 0;}`,
  loop: `int main(void){volatile unsigned long i=0; for(;;) i++; return 0;}`,
  hog: `#include <stdlib.h>
#include <string.h>
#include <stdio.h>
char *volatile keep;
int main(void){for(;;){char*p=malloc(1<<20); if(!p){fprintf(stderr,"out of memory\\n"); return 1;} memset(p,1,1<<20); keep=p;}}`,
  /** One allocation far past a 64 MiB cap: the grow fails while the memory is still small. */
  bigmalloc: `#include <stdlib.h>
#include <stdio.h>
char *volatile keep;
int main(void){char*p=malloc(200<<20); if(!p){fprintf(stderr,"malloc failed\\n"); return 1;} p[0]=1; keep=p; return 0;}`,
  exit3: `#include <stdio.h>
int main(void){fprintf(stderr,"something went wrong\\n"); return 3;}`,
  trap: `int main(void){__builtin_trap(); return 0;}`,
  env: `#include <stdio.h>
#include <stdlib.h>
int main(int argc,char**argv){const char*m=getenv("MODE"); printf("{\\"argc\\":%d,\\"mode\\":\\"%s\\",\\"fopen\\":%d}\\n",argc,m?m:"",fopen("/etc/passwd","r")!=0); return 0;}`,
  reactor: `int add(int a,int b){return a+b;}`,
  foreign: `extern int host_secret(void) __attribute__((import_module("env"),import_name("secret")));
int main(void){return host_secret();}`,
  /** A static counter and a static buffer: a reused instance that was not restored would show 2, or the old text. */
  counter: `#include <stdio.h>
#include <string.h>
static int runs; static char seen[64];
int main(void){char in[32]={0}; fgets(in,sizeof in,stdin); printf("{\\"runs\\":%d,\\"before\\":\\"%s\\"}",++runs,seen); strncpy(seen,in,sizeof seen-1); return 0;}`,
  /** n one-byte writes straight to a descriptor (no stdio buffering): n host calls. Input: [fd, n]. */
  bytes: `#include <unistd.h>
#include <stdio.h>
int main(void){int fd; long n; if(scanf(" [%d , %ld]",&fd,&n)!=2) return 2; for(long i=0;i<n;i++) write(fd,"x",1); return 0;}`,
  /** One fd_write with n empty iovecs. */
  iovecs: `#include <wasi/api.h>
#include <stdlib.h>
#include <stdio.h>
int main(void){long n; if(scanf("%ld",&n)!=1) return 2; __wasi_ciovec_t*v=calloc(n,sizeof *v); if(!v) return 3; __wasi_size_t w=0; __wasi_errno_t e=__wasi_fd_write(1,v,n,&w); printf("{\\"errno\\":%d}",e); return 0;}`,
  /** n empty writes, one call each. */
  emptywrites: `#include <wasi/api.h>
#include <stdio.h>
int main(void){long n; if(scanf("%ld",&n)!=1) return 2; __wasi_ciovec_t v={0,0}; __wasi_size_t w; for(long i=0;i<n;i++) __wasi_fd_write(1,&v,1,&w); printf("done"); return 0;}`,
  /** A JSON array of n numbers on stdout. */
  bigjson: `#include <stdio.h>
int main(void){long n; if(scanf("%ld",&n)!=1) return 2; putchar('['); for(long i=0;i<n;i++) printf(i?",%ld":"%ld",i); putchar(']'); return 0;}`,
} as const;

/** A native WASI 0.2 command component (no preview1 module inside) whose `run` returns ok or err; `extra` goes first. */
const nativeComponent = (ok: boolean, extra = '', exportName = 'wasi:cli/run@0.2.0') => `(component ${extra}
  (core module $m (func (export "run") (result i32) i32.const ${ok ? 0 : 1}))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $inst (export "run" (func $run)))
  (export "${exportName}" (instance $inst)))`;

const WASI = `(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))`;
const START_CMD = `(memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 0)))`;
const PREVIEW1_CORE = `${WASI} ${START_CMD}`;

export const WAT = {
  /** A command whose start function never returns. */
  startLoop: `(module ${WASI} ${START_CMD} (func $spin (loop $l (br $l))) (start $spin))`,
  /** A command whose start function traps. */
  startTrap: `(module ${WASI} ${START_CMD} (func $boom unreachable) (start $boom))`,
  /** A command that declares 1 GiB of initial memory and touches its last page. */
  bigInitial: `(module ${WASI} (memory (export "memory") 16384) (func (export "_start") (i32.store8 (i32.const 1073741823) (i32.const 1)) (call $exit (i32.const 0))))`,
  /** A command whose start function traps about one time in two (a random bit). */
  startCoin: `(module ${WASI} (import "wasi_snapshot_preview1" "random_get" (func $rand (param i32 i32) (result i32)))
    (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 0)))
    (func $coin (drop (call $rand (i32.const 0) (i32.const 1))) (if (i32.and (i32.load8_u (i32.const 0)) (i32.const 1)) (then unreachable)))
    (start $coin))`,
  /** A command that exports no memory. */
  noMemory: `(module ${WASI} (func (export "_start") (call $exit (i32.const 0))))`,
  /** A command importing a preview1-namespaced function WASI preview1 does not define. */
  unknownPreview1: `(module ${WASI} (import "wasi_snapshot_preview1" "nebula_backdoor" (func)) ${START_CMD})`,
  /** Native WASI 0.2 command components: one succeeds, one fails. */
  nativeOk: nativeComponent(true),
  nativeErr: nativeComponent(false),
  /** A component importing WASI sockets. */
  nativeSockets: nativeComponent(true, '(import "wasi:sockets/tcp@0.2.0" (instance))'),
  /** A component exporting something other than wasi:cli/run. */
  nativeNoRun: nativeComponent(true, '', 'example:demo/thing@1.0.0'),
  /** A component whose one preview1 module sits in a nested component (never instantiated). */
  nested: `(component (component (component (core module ${PREVIEW1_CORE}))) ${nativeComponent(true).slice('(component '.length)}`,
} as const;

export type Fixture = keyof typeof SOURCES | keyof typeof WAT;

/**
 * Compiles every fixture (kept in a temp dir by source hash, shared by the test files) and
 * returns the bytes by name. Compiles asynchronously: a blocked event loop starves vitest's RPC.
 */
export async function buildFixtures(): Promise<Record<Fixture, Uint8Array>> {
  const dir = join(tmpdir(), 'nebula-wasm-fixtures');
  mkdirSync(dir, { recursive: true });
  const out = {} as Record<Fixture, Uint8Array>;
  const compile = async ([name, src]: [keyof typeof SOURCES, string]): Promise<void> => {
    const args = ['--target=wasm32-wasi', '-O2'];
    if (name === 'reactor') args.push('-mexec-model=reactor', '-Wl,--export=add');
    if (name === 'foreign') args.push('-Wl,--allow-undefined');
    const hash = createHash('sha256')
      .update(`${src}\0${args.join(' ')}`)
      .digest('hex')
      .slice(0, 16);
    const wasm = join(dir, `${name}-${hash}.wasm`);
    if (!existsSync(wasm)) {
      const c = join(dir, `${name}-${hash}-${process.pid}.c`);
      writeFileSync(c, src);
      await run('clang', [...args, c, '-o', `${wasm}.${process.pid}`]);
      renameSync(`${wasm}.${process.pid}`, wasm);
      rmSync(c);
    }
    out[name] = readFileSync(wasm);
  };
  const queue = Object.entries(SOURCES) as Array<[keyof typeof SOURCES, string]>;
  await Promise.all(
    [0, 1].map(async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await compile(next);
    }),
  );
  for (const [name, text] of Object.entries(WAT) as Array<[keyof typeof WAT, string]>) out[name] = await parse(text);
  return out;
}

/** A component made from a preview1 module with jco's preview1 command adapter. */
export async function componentOf(core: Uint8Array): Promise<Uint8Array> {
  const { componentNew, preview1AdapterCommandPath } = await import('@bytecodealliance/jco');
  return componentNew(core, [['wasi_snapshot_preview1', readFileSync(preview1AdapterCommandPath())]]);
}
