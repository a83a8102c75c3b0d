/*
 * wordrank: a function with start-up work of another kind than the built-in primecount's sieve,
 * for bench/wasm-preinit.mjs. At start it builds a dictionary: 400,000 pseudo-random words (4 to
 * 11 letters, from a fixed seed), hashed into an open-addressing table of 2^20 slots that keeps
 * each word's first position, its copy in a 4 MiB string arena and how often it was drawn. Words
 * are drawn from a skewed distribution, so many repeat. Input: n, the index of a word in the
 * order drawn (0 to 399,999); output: {"rank": <first position of that word>, "count": <times
 * drawn>}. The table build (allocation, hashing, string compares, probing) is the cold start;
 * a lookup is one hash and a probe or two. Same contract as the built-ins (functions/src/contract.h).
 */
#include <stdint.h>
#include "../../functions/src/contract.h"

#define WORDS 400000u
#define SLOTS (1u << 20)
#define ARENA (4u << 20)

typedef struct {
  uint32_t offset; /* of the word in the arena, + 1 (0: empty slot) */
  uint32_t first;  /* the position it was first drawn at */
  uint32_t count;
} slot;

static slot *table;
static char *arena;
static uint32_t used;
static uint32_t *drawn; /* the arena offset + 1 of the word drawn at each position */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

static uint32_t hash(const char *s, uint32_t len) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/* The slot of the word s[0..len), inserting it (first drawn at `position`) when new. */
PASS static slot *find(const char *s, uint32_t len, uint32_t position) {
  for (uint32_t i = hash(s, len) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
    slot *e = &table[i];
    if (!e->offset) {
      if (used + len + 1 > ARENA) __builtin_trap(); /* cannot happen with the fixed seed */
      memcpy(arena + used, s, len);
      arena[used + len] = 0;
      e->offset = used + 1;
      e->first = position;
      used += len + 1;
      return e;
    }
    const char *w = arena + e->offset - 1;
    if (strncmp(w, s, len) == 0 && w[len] == 0) return e;
  }
}

/* Builds the dictionary once; 0 when its memory cannot be had. */
static int build_dictionary(void) {
  if (table) return 1;
  slot *t = calloc(SLOTS, sizeof *t);
  arena = malloc(ARENA);
  drawn = malloc(WORDS * sizeof *drawn);
  if (!t || !arena || !drawn) return 0;
  table = t;
  char word[12];
  for (uint32_t p = 0; p < WORDS; p++) {
    /* Skewed: short words from a small alphabet repeat often, long ones hardly ever. */
    uint32_t r = next(), len = 4 + (r % 8), letters = 3 + len * 2;
    for (uint32_t i = 0; i < len; i++) word[i] = (char)('a' + next() % letters);
    slot *e = find(word, len, p);
    e->count++;
    drawn[p] = e->offset;
  }
  return 1;
}

INITIALIZER void initialize(void) {
  if (!build_dictionary()) __builtin_trap();
}

int main(void) {
  if (!build_dictionary()) {
    fprintf(stderr, "wordrank: no memory for its dictionary\n");
    return 1;
  }
  request rq = read_request("wordrank", 0, WORDS - 1);
  const char *w = arena + drawn[rq.n] - 1;
  slot *e = find(w, (uint32_t)strlen(w), (uint32_t)rq.n);
  printf("{\"rank\":%u,\"count\":%u}\n", (unsigned)e->first, (unsigned)e->count);
  return 0;
}
