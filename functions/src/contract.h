/*
 * The nebula-faas function contract for the built-in functions: the input is the JSON text of
 * one integer n, or {"n": <integer>, "repeat": <integer>}, on stdin; the result is JSON on stdout;
 * bad input is a one-line message on stderr and exit code 2.
 *
 * "repeat" (default 1) computes the same result that many times, so that functions whose largest
 * input runs for microseconds (factorial, exponential) can be timed over a long run as well.
 */
#ifndef NEBULA_CONTRACT_H
#define NEBULA_CONTRACT_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX 4096
#define REPEAT_MAX 1000000000LL

/* One invocation's request: the function's argument and how many passes compute it. */
typedef struct {
  long long n;
  long long repeat;
} request;

/*
 * Each pass reads n from pass_n and writes a digest of its result to pass_out: both volatile, so
 * the compiler can neither hoist a pass out of the repeat loop nor drop all passes but the last.
 * That costs one load and one store per pass, the same on every target.
 */
static volatile long long pass_n;
static volatile unsigned long long pass_out;

static void fail_input(const char *fn, const char *range, const char *got) {
  fprintf(stderr, "%s: input must be an integer %s, got %s\n", fn, range, got);
  exit(2);
}

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* Parses a JSON integer at p (no fraction, no exponent); returns the end or NULL. */
static const char *parse_int(const char *p, long long *out) {
  int neg = 0;
  if (*p == '-') { neg = 1; p++; }
  if (!isdigit((unsigned char)*p)) return NULL;
  if (*p == '0' && isdigit((unsigned char)p[1])) return NULL;
  unsigned long long v = 0;
  while (isdigit((unsigned char)*p)) {
    if (v > 100000000000000000ULL) return NULL; /* far beyond every range below */
    v = v * 10 + (unsigned long long)(*p - '0');
    p++;
  }
  if (*p == '.' || *p == 'e' || *p == 'E') return NULL;
  *out = neg ? -(long long)v : (long long)v;
  return p;
}

/* Parses {"n": <integer>, "repeat": <integer>} ("repeat" optional, keys in any order) at p. */
static const char *parse_object(const char *p, request *rq) {
  int have_n = 0, have_repeat = 0;
  p = skip_ws(p + 1);
  for (;;) {
    long long *slot;
    if (strncmp(p, "\"n\"", 3) == 0 && !have_n++) {
      slot = &rq->n;
      p += 3;
    } else if (strncmp(p, "\"repeat\"", 8) == 0 && !have_repeat++) {
      slot = &rq->repeat;
      p += 8;
    } else {
      return NULL;
    }
    p = skip_ws(p);
    if (*p != ':') return NULL;
    p = parse_int(skip_ws(p + 1), slot);
    if (!p) return NULL;
    p = skip_ws(p);
    if (*p == '}') return have_n ? p + 1 : NULL;
    if (*p != ',') return NULL;
    p = skip_ws(p + 1);
  }
}

/* Reads stdin: n must lie in [lo, hi] and repeat in [1, REPEAT_MAX]; exits 2 with a message otherwise. */
static request read_request(const char *fn, long long lo, long long hi) {
  static char buf[INPUT_MAX + 1];
  size_t len = fread(buf, 1, INPUT_MAX, stdin);
  buf[len] = 0;
  const char *end = buf + len;
  char range[128];
  snprintf(range, sizeof range, "from %lld to %lld (or {\"n\": <integer>, \"repeat\": <1 to %lld>})", lo, hi, REPEAT_MAX);
  char shown[64];
  const char *t = skip_ws(buf);
  if (t == end) fail_input(fn, range, "empty input");
  snprintf(shown, sizeof shown, "%.40s%s", t, strlen(t) > 40 ? "..." : "");
  for (char *c = shown; *c; c++) if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';

  request rq = {0, 1};
  const char *p = *t == '{' ? parse_object(t, &rq) : parse_int(t, &rq.n);
  /* The whole input must be that one value: a NUL byte or anything after it is refused. */
  if (!p || skip_ws(p) != end) fail_input(fn, range, shown);
  if (rq.n < lo || rq.n > hi || rq.repeat < 1 || rq.repeat > REPEAT_MAX) fail_input(fn, range, shown);
  pass_n = rq.n;
  return rq;
}

/*
 * The work of one pass (or, where a pass is one long loop, of one step of it) is a function of its
 * own that is never inlined: an engine that optimises function by function, as V8 does, runs the
 * optimised code from the next call on, and cannot switch inside a running call (a loop in one
 * call would stay in baseline code for the whole first invocation). Native code pays one call.
 */
#define PASS __attribute__((noinline))

/*
 * A function's start-up work that a snapshot can keep: in the wasm build the function is exported
 * as `wizer.initialize`, the entry a pre-initialiser (Wizer) calls before it writes the module's
 * memory out as data. main does the same work when it finds it not done, so one module runs right
 * with or without a snapshot; the native builds do it at every start.
 */
#ifdef __wasm__
#define INITIALIZER __attribute__((export_name("wizer.initialize")))
#else
#define INITIALIZER
#endif

#endif
