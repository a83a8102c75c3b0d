/* exponential: e^n as an IEEE double, by summing the Taylor series of e^|n| term by term. */
#include "contract.h"

PASS static double exponential(long long n) {
  double x = (double)(n < 0 ? -n : n);
  /* All terms are positive for x >= 0, so the sum loses no precision to cancellation; the work
   * grows with n (about n + 40 terms), which makes this a compute workload, not a libm call. */
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 4096; k++) {
    term *= x / k;
    double next = sum + term;
    if (next == sum) break;
    sum = next;
  }
  return n < 0 ? 1.0 / sum : sum;
}

int main(void) {
  /* e^709 is the largest power of e below DBL_MAX; e^-708 the smallest normal one. */
  request rq = read_request("exponential", -708, 709);
  double r = 0;
  for (long long pass = 0; pass < rq.repeat; pass++) {
    r = exponential(pass_n);
    unsigned long long bits;
    memcpy(&bits, &r, sizeof bits);
    pass_out = bits;
  }
  printf("%.17g\n", r);
  return 0;
}
