/* A function that reports its own CPU time, for bench/energy-concurrency.mjs: reads n on stdin,
 * computes fib(n) recursively, and prints the result with its CPU clocks read just before it
 * exits, in ns: the process's (CLOCK_PROCESS_CPUTIME_ID: every thread, those that ended at exec
 * included) and its one thread's (CLOCK_THREAD_CPUTIME_ID). An independent reading of what the
 * runtimes report as the invocation's cpuMs. Where RLIMIT_CPU is set, the kernel keeps the
 * process clock in a timer brought up to date at scheduler ticks, so it can read up to a tick
 * short; the thread clock is always up to date. */
#include <stdio.h>
#include <time.h>

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
  int n = 0;
  if (scanf("%d", &n) != 1 || n < 0 || n > 45) {
    fputs("cpu-clock: input must be an integer from 0 to 45\n", stderr);
    return 2;
  }
  long r = fib(n);
  struct timespec p, t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p);
  printf("{\"result\":%ld,\"processNs\":%lld,\"threadNs\":%lld}\n", r, (long long)p.tv_sec * 1000000000LL + p.tv_nsec,
         (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
  return 0;
}
