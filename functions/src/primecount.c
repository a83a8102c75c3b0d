/*
 * primecount: pi(n), the number of primes up to n, looked up in a table built at start-up: a
 * sieve of Eratosthenes over every number below 2^25 (one bit per odd number, 2 MiB) and the
 * count of primes before each 64-bit word of it (1 MiB). Building the table takes tens of
 * milliseconds and a lookup a few nanoseconds: a function whose cold start is its initialisation,
 * which a snapshot taken after it (Wizer: `initialize` below) removes.
 */
#include <stdint.h>
#include "contract.h"

#define LIMIT (1u << 25)         /* the table covers 0 .. LIMIT - 1 */
#define WORDS (LIMIT / 128)      /* 64 odd numbers per word */
#define SEGMENT_WORDS 2048u      /* sieved 16 KiB at a time, so each segment stays in cache */
#define ROOT 5793u               /* the smallest integer whose square is at least LIMIT */

/* Bit k of word k / 64 is set when 2k + 1 is not prime (1 included). */
static uint64_t *composite;
/* Odd primes below 128 * w, for each word w. */
static uint32_t *odd_primes_before;
/* The odd primes below ROOT, and for each the index of its next odd multiple still to cross off. */
static uint32_t base[ROOT / 2], next_multiple[ROOT / 2], bases;

/* Sieves one segment of words and counts its primes: a step of its own (PASS) for V8's tiers. */
PASS static void sieve_segment(uint32_t first_word, uint32_t primes_before) {
  uint32_t end = (first_word + SEGMENT_WORDS) * 64;
  for (uint32_t i = 0; i < bases; i++) {
    uint32_t p = base[i], k = next_multiple[i];
    for (; k < end; k += p) composite[k / 64] |= (uint64_t)1 << (k % 64);
    next_multiple[i] = k;
  }
  for (uint32_t w = first_word; w < first_word + SEGMENT_WORDS; w++) {
    odd_primes_before[w] = primes_before;
    primes_before += (uint32_t)__builtin_popcountll(~composite[w]);
  }
}

/* Builds the table once; 0 when its memory cannot be had. */
static int build_table(void) {
  if (odd_primes_before) return 1;
  composite = calloc(WORDS, sizeof *composite);
  uint32_t *counts = malloc(WORDS * sizeof *counts);
  if (!composite || !counts) return 0;
  static uint8_t small_composite[ROOT];
  for (uint32_t p = 3; p < ROOT; p += 2) {
    if (small_composite[p]) continue;
    for (uint32_t m = p * p; m < ROOT; m += 2 * p) small_composite[m] = 1;
    base[bases] = p;
    next_multiple[bases++] = p * p / 2;
  }
  composite[0] = 1; /* 1 is not prime */
  odd_primes_before = counts;
  uint32_t primes = 0;
  for (uint32_t w = 0; w < WORDS; w += SEGMENT_WORDS) {
    sieve_segment(w, primes);
    uint32_t last = w + SEGMENT_WORDS - 1;
    primes = odd_primes_before[last] + (uint32_t)__builtin_popcountll(~composite[last]);
  }
  return 1;
}

/*
 * The pre-initialiser's entry (exported as `wizer.initialize` in the wasm build): the same
 * build, at snapshot time. It may call nothing outside the module, so a table that cannot be
 * built traps here, and the snapshot is refused.
 */
INITIALIZER void initialize(void) {
  if (!build_table()) __builtin_trap();
}

/* pi(n) for n < LIMIT: 2, then the odd primes up to n. */
PASS static uint32_t prime_count(uint32_t n) {
  if (n < 2) return 0;
  uint32_t k = (n - 1) / 2, bit = k % 64;
  uint64_t upto = bit == 63 ? ~(uint64_t)0 : ((uint64_t)2 << bit) - 1;
  return 1 + odd_primes_before[k / 64] + (uint32_t)__builtin_popcountll(~composite[k / 64] & upto);
}

int main(void) {
  /* Initialisation first, as a function with start-up work does it: already done in a snapshot. */
  if (!build_table()) {
    fprintf(stderr, "primecount: no memory for its 3 MiB table\n");
    return 1;
  }
  request rq = read_request("primecount", 0, LIMIT - 1);
  uint32_t r = 0;
  for (long long pass = 0; pass < rq.repeat; pass++) {
    r = prime_count((uint32_t)pass_n);
    pass_out = r;
  }
  printf("%u\n", (unsigned)r);
  return 0;
}
