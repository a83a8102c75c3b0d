/* A test function for the Docker runtime; its input (a JSON string) says what to do. */
#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int count(const char *dir, int numeric) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && (!numeric || (e->d_name[0] >= '0' && e->d_name[0] <= '9'))) n++;
  closedir(d);
  return n;
}

static int lines(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n - 1; /* the header */
}

int main(void) {
  char in[256] = {0};
  size_t len = fread(in, 1, sizeof in - 1, stdin);
  in[len] = 0;
  if (strstr(in, "host")) {
    char host[128] = {0};
    gethostname(host, sizeof host - 1);
    printf("{\"host\":\"%s\",\"uid\":%d,\"gid\":%d}\n", host, (int)getuid(), (int)getgid());
  } else if (strstr(in, "hang")) {
    if (fork() == 0) {
      setsid();
      for (;;) pause();
    }
    for (;;) pause();
  } else if (strstr(in, "ps")) {
    printf("{\"processes\":%d}\n", count("/proc", 1));
  } else if (strstr(in, "write")) {
    int fd = open("/dev/shm/left", O_CREAT | O_WRONLY, 0600);
    mqd_t q = mq_open("/left", O_CREAT | O_RDWR, 0600, NULL);
    int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    printf("{\"file\":%s,\"queue\":%s,\"segment\":%s}\n", fd >= 0 ? "true" : "false", q != (mqd_t)-1 ? "true" : "false", shm >= 0 ? "true" : "false");
  } else if (strstr(in, "check")) {
    printf("{\"shmFiles\":%d,\"queues\":%d,\"segments\":%d}\n", count("/dev/shm", 0), count("/dev/mqueue", 0), lines("/proc/sysvipc/shm"));
  } else if (strstr(in, "limits")) {
    struct statvfs s;
    long shm = statvfs("/dev/shm", &s) == 0 ? (long)(s.f_blocks * s.f_frsize) : -1;
    FILE *w = fopen("/written", "w");
    printf("{\"uid\":%d,\"shmBytes\":%ld,\"rootWritable\":%s}\n", (int)getuid(), shm, w ? "true" : "false");
  } else if (strstr(in, "flood")) {
    /* A JSON array of 2.4 MB: over a 1 MiB output cap. */
    fputs("[", stdout);
    for (int i = 0; i < 400000; i++) printf("%s%05d", i ? "," : "", i % 100000);
    puts("]");
  } else if (strstr(in, "hog")) {
    for (;;) {
      char *p = malloc(1 << 20);
      if (!p) return 3;
      memset(p, 1, 1 << 20);
    }
  } else if (strstr(in, "sleep")) {
    sleep(2);
    puts("\"slept\"");
  } else {
    fprintf(stderr, "probe: unknown request %s\n", in);
    return 2;
  }
  return 0;
}
