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

/*
 * Bit k % 32 of composite[k / 32] is set when 2k + 1 is not prime (1 included). Marked in 32-bit
 * words: with 64-bit ones, V8's code for the sieve's inner loop (a 64-bit shift by a 32-bit
 * count, and the address) took 1.2x native's; counted 64 at a time (`odd_word`).
 */
static uint32_t *composite;
/* Odd primes below 128 * w, for each 64-bit word w of the table. */
static uint32_t *odd_primes_before;
/* The odd primes below ROOT, and for each the index of its next odd multiple still to cross off. */
static uint32_t base[ROOT / 2], next_multiple[ROOT / 2], bases;

/*
 * The set bits of x, by shifts, masks and one multiply, on every target. __builtin_popcountll is
 * this very sequence natively (POPCNT is not in the x86-64 baseline) but one i64.popcnt in wasm,
 * which V8 makes one instruction on a CPU with POPCNT and a call into the engine on one without:
 * the lookup's speed against native would then depend on the CPU (0.8x with POPCNT, 1.9x without).
 */
static uint32_t bit_count(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

/*
 * The 64 odd numbers from 128 * w: bit j set when 128 * w + 2j + 1 is not prime. One 64-bit load
 * of two 32-bit words, low word first: every target here (x86-64, AArch64, wasm) is little-endian.
 */
static uint64_t odd_word(uint32_t w) {
  uint64_t x;
  memcpy(&x, composite + 2 * w, sizeof x);
  return x;
}

/* Sieves one segment of words and counts its primes: a step of its own (PASS) for V8's tiers. */
PASS static void sieve_segment(uint32_t first_word, uint32_t primes_before) {
  uint32_t end = (first_word + SEGMENT_WORDS) * 64;
  for (uint32_t i = 0; i < bases; i++) {
    uint32_t p = base[i], k = next_multiple[i];
    for (; k < end; k += p) composite[k / 32] |= 1u << (k % 32);
    next_multiple[i] = k;
  }
  for (uint32_t w = first_word; w < first_word + SEGMENT_WORDS; w++) {
    odd_primes_before[w] = primes_before;
    primes_before += bit_count(~odd_word(w));
  }
}

/* Builds the table once; 0 when its memory cannot be had. */
static int build_table(void) {
  if (odd_primes_before) return 1;
  composite = calloc(2 * WORDS, sizeof *composite);
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
    primes = odd_primes_before[last] + bit_count(~odd_word(last));
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
static uint32_t prime_count(uint32_t n) {
  if (n < 2) return 0;
  uint32_t k = (n - 1) / 2, bit = k % 64;
  uint64_t upto = bit == 63 ? ~(uint64_t)0 : ((uint64_t)2 << bit) - 1;
  return 1 + odd_primes_before[k / 64] + bit_count(~odd_word(k / 64) & upto);
}

/*
 * `count` passes of the lookup. A lookup takes nanoseconds, so passes go in batches, each batch a
 * step of its own (PASS), and four to a loop iteration on every target: one pass per call or per
 * iteration would time V8's call frames and its interrupt check on every iteration (1.3x native
 * with a pass per iteration of main's loop), not the lookup.
 */
PASS static uint32_t lookups(long long count) {
  uint32_t r = 0;
#pragma clang loop unroll_count(4)
  for (long long pass = 0; pass < count; pass++) {
    r = prime_count((uint32_t)pass_n);
    pass_out = r;
  }
  return r;
}

int main(void) {
  /* Initialisation first, as a function with start-up work does it: already done in a snapshot. */
  if (!build_table()) {
    fprintf(stderr, "primecount: no memory for its 3 MiB table\n");
    return 1;
  }
  request rq = read_request("primecount", 0, LIMIT - 1);
  uint32_t r = 0;
  for (long long done = 0; done < rq.repeat; done += 4096) r = lookups(rq.repeat - done < 4096 ? rq.repeat - done : 4096);
  printf("%u\n", (unsigned)r);
  return 0;
}
