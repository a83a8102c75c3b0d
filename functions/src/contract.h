/*
 * The nebula-faas function contract for the built-in functions: the input is the JSON text of
 * one integer (or {"n": <integer>}) on stdin; the result is JSON on stdout; bad input is a
 * one-line message on stderr and exit code 2.
 */
#ifndef NEBULA_CONTRACT_H
#define NEBULA_CONTRACT_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX 4096

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

/* Reads stdin and returns n, which must lie in [lo, hi]; exits 2 with a message otherwise. */
static long long read_input(const char *fn, long long lo, long long hi) {
  static char buf[INPUT_MAX + 1];
  size_t len = fread(buf, 1, INPUT_MAX, stdin);
  buf[len] = 0;
  char range[96];
  snprintf(range, sizeof range, "from %lld to %lld (or {\"n\": <integer>})", lo, hi);
  char shown[64];
  const char *t = skip_ws(buf);
  if (*t == 0) fail_input(fn, range, "empty input");
  snprintf(shown, sizeof shown, "%.40s%s", t, strlen(t) > 40 ? "..." : "");
  for (char *c = shown; *c; c++) if (*c == '\n' || *c == '\r') *c = ' ';

  const char *p = t;
  int object = 0;
  if (*p == '{') {
    object = 1;
    p = skip_ws(p + 1);
    if (strncmp(p, "\"n\"", 3) != 0) fail_input(fn, range, shown);
    p = skip_ws(p + 3);
    if (*p != ':') fail_input(fn, range, shown);
    p = skip_ws(p + 1);
  }
  long long n;
  p = parse_int(p, &n);
  if (!p) fail_input(fn, range, shown);
  p = skip_ws(p);
  if (object) {
    if (*p != '}') fail_input(fn, range, shown);
    p = skip_ws(p + 1);
  }
  if (*p != 0) fail_input(fn, range, shown);
  if (n < lo || n > hi) fail_input(fn, range, shown);
  return n;
}

#endif
