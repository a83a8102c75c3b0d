/* A misbehaving function for bench/soak-docker.mjs; its input (a JSON string) says how to misbehave. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(void) {
  char in[64] = {0};
  size_t n = fread(in, 1, sizeof in - 1, stdin);
  in[n] = 0;
  if (strstr(in, "ok")) printf("%ld\n", fib(20));
  else if (strstr(in, "crash")) *(volatile int *)0 = 1; /* a real fault: raise() would not stop a process 1 */
  else if (strstr(in, "forkbomb"))
    for (;;) fork(); /* every process forks, until the container's process cap */
  else if (strstr(in, "flood")) {
    fputs("[", stdout);
    for (int i = 0; i < 400000; i++) printf("%s%05d", i ? "," : "", i % 100000);
    puts("]");
  } else if (strstr(in, "alloc")) {
    size_t size = (size_t)1 << 30;
    volatile char *p = malloc(size);
    if (!p) return 3;
    for (size_t i = 0; i < size; i += 4096) p[i] = 1; /* touch every page, so it is really used */
    puts("\"allocated\"");
  } else if (strstr(in, "hang")) for (;;) pause();
  else return 2;
  return 0;
}
