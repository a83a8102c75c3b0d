/* factorial: n! exactly, as an unsigned 64-bit integer, printed as a JSON string. */
#include "contract.h"

PASS static unsigned long long factorial(long long n) {
  unsigned long long f = 1;
  /*
   * Kept scalar on every target: no native target vectorises this 64-bit product (SSE2 has no
   * 64-bit lane multiply), while clang's wasm cost model would, into i64x2.mul, which V8 builds
   * from several instructions on x86-64: 2.7x slower than the scalar loop.
   */
#pragma clang loop vectorize(disable)
  for (long long i = 2; i <= n; i++) f *= (unsigned long long)i;
  return f;
}

int main(void) {
  /* 20! = 2432902008176640000 is the largest factorial an unsigned 64-bit integer holds. */
  request rq = read_request("factorial", 0, 1000000);
  if (rq.n > 20) {
    fprintf(stderr, "factorial: %lld! does not fit in an unsigned 64-bit integer; the largest supported n is 20\n", rq.n);
    return 2;
  }
  unsigned long long f = 1;
  for (long long pass = 0; pass < rq.repeat; pass++) {
    f = factorial(pass_n);
    pass_out = f;
  }
  /* A string, because JSON numbers lose precision past 2^53. */
  printf("\"%llu\"\n", f);
  return 0;
}
