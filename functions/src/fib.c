/* fib: the n-th Fibonacci number by naive recursion, as in the thesis (a CPU-bound workload). */
#include "contract.h"

static unsigned long long fib(int n) { return n < 2 ? (unsigned long long)n : fib(n - 1) + fib(n - 2); }

int main(void) {
  /* fib(78) is the largest below 2^53, so the JSON number stays exact in every JSON reader. */
  int n = (int)read_input("fib", 0, 78);
  printf("%llu\n", fib(n));
  return 0;
}
