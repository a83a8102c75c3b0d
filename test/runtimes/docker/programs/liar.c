/*
 * A supervisor that lies, for the protocol tests: process 1 of a container that speaks the warm
 * supervisor's frames (see src/runtimes/docker/supervisor/) but, as its argument says, breaks
 * them on the first run: a stale exit, a clean-up report before the exit, output after it, an
 * unknown frame, two exits, bytes on stderr, another version; "honest" keeps to the protocol and
 * "dirty" reports the container unclean after an honest run.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void frame(char type, const void *payload, uint32_t n) {
  unsigned char head[5];
  head[0] = (unsigned char)type;
  put32(head + 1, n);
  if (write(1, head, 5) != 5 || (n && write(1, payload, n) != (ssize_t)n)) _exit(1);
}

static void exit_frame(uint32_t seq) {
  unsigned char x[32] = {0};
  put32(x, seq);
  frame('X', x, sizeof x);
}

static void clean_frame(uint32_t seq, uint32_t flags) {
  unsigned char c[8];
  put32(c, seq);
  put32(c + 4, flags);
  frame('C', c, sizeof c);
}

/* Reads one whole frame from the host; returns its type, and the run's number for 'R'. */
static int next(uint32_t *seq) {
  unsigned char head[5], body[65536];
  if (read(0, head, 5) != 5) _exit(0);
  uint32_t n = ((uint32_t)head[1] << 24) | ((uint32_t)head[2] << 16) | ((uint32_t)head[3] << 8) | head[4];
  for (uint32_t got = 0; got < n;) {
    ssize_t r = read(0, body + (got < sizeof body ? got : 0), n - got < sizeof body ? n - got : sizeof body);
    if (r <= 0) _exit(0);
    got += (uint32_t)r;
  }
  *seq = n >= 4 ? ((uint32_t)body[0] << 24) | ((uint32_t)body[1] << 16) | ((uint32_t)body[2] << 8) | body[3] : 0;
  return head[0];
}

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "honest";
  unsigned char version[4];
  put32(version, strcmp(how, "version") ? 2 : 1);
  frame('H', version, 4);
  for (;;) {
    uint32_t seq;
    if (next(&seq) != 'R') continue;
    if (!strcmp(how, "stale-exit")) {
      exit_frame(seq - 1);
    } else if (!strcmp(how, "early-clean")) {
      clean_frame(seq, 0);
    } else if (!strcmp(how, "output-after-exit")) {
      exit_frame(seq);
      frame('O', "42\n", 3);
    } else if (!strcmp(how, "unknown")) {
      frame('Z', "", 0);
    } else if (!strcmp(how, "double-exit")) {
      exit_frame(seq);
      exit_frame(seq);
    } else if (!strcmp(how, "stderr")) {
      if (write(2, "forged\n", 7) < 0) return 1;
    } else {
      frame('O', "42\n", 3);
      exit_frame(seq);
      clean_frame(seq, strcmp(how, "dirty") ? 0 : 2);
    }
  }
}
