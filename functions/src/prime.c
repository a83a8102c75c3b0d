/* prime: the n-th prime number by brute-force trial division, as in the thesis. */
#include "contract.h"

static int is_prime(unsigned long long k) {
  if (k < 2) return 0;
  if (k % 2 == 0) return k == 2;
  for (unsigned long long d = 3; d * d <= k; d += 2)
    if (k % d == 0) return 0;
  return 1;
}

int main(void) {
  long long n = read_input("prime", 1, 10000000);
  unsigned long long candidate = 1;
  long long found = 0;
  while (found < n) {
    candidate++;
    if (is_prime(candidate)) found++;
  }
  printf("%llu\n", candidate);
  return 0;
}
