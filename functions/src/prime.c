/* prime: the n-th prime number by brute-force trial division, as in the thesis. */
#include <stdint.h>
#include "contract.h"

/*
 * 32-bit arithmetic: the largest answer, the 10 000 000th prime, is 179 424 673 < 2^32. With 64-bit
 * operands clang's x86-64 code divides in 32 bits whenever the values fit, while a wasm engine
 * compiles i64.rem_u to a full 64-bit division: the same source would not do the same work.
 */
PASS static int is_prime(uint32_t k) {
  if (k < 2) return 0;
  if (k % 2 == 0) return k == 2;
  for (uint32_t d = 3; d * d <= k; d += 2)
    if (k % d == 0) return 0;
  return 1;
}

static uint32_t nth_prime(long long n) {
  uint32_t candidate = 1;
  long long found = 0;
  while (found < n) {
    candidate++;
    if (is_prime(candidate)) found++;
  }
  return candidate;
}

int main(void) {
  request rq = read_request("prime", 1, 10000000);
  uint32_t r = 0;
  for (long long pass = 0; pass < rq.repeat; pass++) {
    r = nth_prime(pass_n);
    pass_out = r;
  }
  printf("%u\n", (unsigned)r);
  return 0;
}
