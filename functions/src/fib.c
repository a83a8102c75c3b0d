/* fib: the n-th Fibonacci number by naive recursion, as in the thesis (a CPU-bound workload). */
#include "contract.h"

static unsigned long long fib(int n) { return n < 2 ? (unsigned long long)n : fib(n - 1) + fib(n - 2); }

int main(void) {
  /* fib(78) is the largest below 2^53, so the JSON number stays exact in every JSON reader. */
  request rq = read_request("fib", 0, 78);
  unsigned long long r = 0;
  for (long long pass = 0; pass < rq.repeat; pass++) {
    r = fib((int)pass_n);
    pass_out = r;
  }
  printf("%llu\n", r);
  return 0;
}
