/* The per-run cgroups of nebula-exec (see cgroup.h). */
#define _GNU_SOURCE
#include "cgroup.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum kind { CG_V2, CG_MEMORY, CG_CPUACCT };
static const char *const KINDS[] = {"v2", "memory", "cpuacct"};

struct cg {
  enum kind kind;
  char parent[PATH_MAX];
  char dir[PATH_MAX];
  int fd;   /* the directory, flock()ed while this helper lives */
  int join; /* what the function writes "0" to, to join: v1 tasks, v2 cgroup.procs */
  int made;
};

static struct cg cgs[3];
static int ncg;
static unsigned long long memory_max;
static char state[48] = "-";
static int kill_fd = -1; /* cgroup.kill of the v2 cgroup (Linux 5.14+) */
static int oom_fd = -1;  /* eventfd of the v1 memory cgroup's OOM notification */
static int oom_seen;

/* The cgroup of each role: the memory limit and peak, the CPU time, the list of the tree's processes. */
static struct cg *role(enum kind first, enum kind second) {
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < ncg; i++)
      if (cgs[i].kind == (k ? second : first)) return &cgs[i];
  return 0;
}
static struct cg *memory_cg(void) { return role(CG_MEMORY, CG_V2); }
static struct cg *cpu_cg(void) { return role(CG_V2, CG_CPUACCT); }
static struct cg *tree_cg(void) {
  struct cg *t = role(CG_V2, CG_MEMORY);
  return t ? t : ncg ? &cgs[0] : 0;
}

int cg_add(const char *spec) {
  const char *colon = strchr(spec, ':');
  if (!colon || ncg == 3 || strlen(colon + 1) + 64 >= PATH_MAX) return -1;
  for (int k = 0; k < 3; k++) {
    if (strlen(KINDS[k]) != (size_t)(colon - spec) || strncmp(spec, KINDS[k], (size_t)(colon - spec))) continue;
    struct cg *c = &cgs[ncg++];
    c->kind = (enum kind)k;
    strcpy(c->parent, colon + 1);
    c->fd = c->join = -1;
    return 0;
  }
  return -1;
}

void cg_set_memory_max(unsigned long long bytes) { memory_max = bytes; }
int cg_active(void) { return strcmp(state, "ok") == 0; }
const char *cg_state(void) { return state; }
int cg_oom_fd(void) { return cg_active() ? oom_fd : -1; }

/* Writes `value` to `file` in the directory `dir`; returns 0 or an errno. */
static int put(int dir, const char *file, const char *value) {
  int fd = openat(dir, file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, value, strlen(value));
  int err = n < 0 ? errno : 0;
  close(fd);
  return err;
}

/* The number after "<key> " in `file` (the first number when key is 0), or -1. */
static long long get(int dir, const char *file, const char *key) {
  char buf[4096];
  int fd = openat(dir, file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  const char *at = buf;
  if (key) {
    size_t len = strlen(key);
    while (!(strncmp(at, key, len) == 0 && at[len] == ' ')) {
      at = strchr(at, '\n');
      if (!at) return -1;
      at++;
    }
    at += len + 1;
  }
  char *end;
  long long v = strtoll(at, &end, 10);
  return end == at ? -1 : v;
}

static void failed(const char *step, int err) {
  snprintf(state, sizeof state, "%s:%d", step, err);
  cg_remove();
}

void cg_create(const char *tag) {
  if (!ncg) return;
  for (int i = 0; i < ncg; i++) {
    struct cg *c = &cgs[i];
    snprintf(c->dir, sizeof c->dir, "%s/nebula-exec-%s", c->parent, tag);
    if (mkdir(c->dir, 0755) != 0) return failed("mkdir", errno);
    c->made = 1;
    c->fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->fd < 0) return failed("open", errno);
    if (flock(c->fd, LOCK_EX | LOCK_NB) != 0) return failed("flock", errno);
    /*
     * Moving a process takes a global lock whose writer waits for an RCU grace period (5-20 ms when no
     * other move happened just before). v1: the function moves its only thread through `tasks`, which
     * skips that lock; v2: it is cloned into its cgroup (CLONE_INTO_CGROUP), and cgroup.procs is the
     * fallback for kernels before 5.7.
     */
    c->join = openat(c->fd, c->kind == CG_V2 ? "cgroup.procs" : "tasks", O_WRONLY | O_CLOEXEC);
    if (c->join < 0) return failed("open", errno);
  }
  struct cg *m = memory_cg();
  if (memory_max && m) {
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%llu", memory_max);
    int err;
    if (m->kind == CG_MEMORY) {
      if ((err = put(m->fd, "memory.limit_in_bytes", bytes))) return failed("memory.limit_in_bytes", err);
      put(m->fd, "memory.memsw.limit_in_bytes", bytes); /* no swap beyond the limit, where swap is accounted */
      /* v1 kills one process at the limit; told of it, the helper kills the rest of the tree. */
      int efd = eventfd(0, EFD_CLOEXEC), ofd = openat(m->fd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
      char line[32];
      snprintf(line, sizeof line, "%d %d", efd, ofd);
      if (efd >= 0 && ofd >= 0 && put(m->fd, "cgroup.event_control", line) == 0) oom_fd = efd;
      else if (efd >= 0) close(efd);
      if (ofd >= 0) close(ofd);
    } else {
      if ((err = put(m->fd, "memory.max", bytes))) return failed("memory.max", err);
      put(m->fd, "memory.swap.max", "0");
      put(m->fd, "memory.oom.group", "1"); /* the kernel kills the whole tree at the limit */
    }
  }
  struct cg *t = role(CG_V2, CG_V2);
  if (t) kill_fd = openat(t->fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
  strcpy(state, "ok");
}

int cg_clone_fd(void) {
  struct cg *v2 = role(CG_V2, CG_V2);
  return cg_active() && v2 ? v2->fd : -1;
}

int cg_join(int v2_too) {
  for (int i = 0; i < ncg; i++)
    if ((cgs[i].kind != CG_V2 || v2_too) && write(cgs[i].join, "0", 1) != 1) return errno;
  return 0;
}

void cg_join_failed(int err) { snprintf(state, sizeof state, "join:%d", err); }

void cg_kill_async(void) {
  if (kill_fd >= 0) {
    ssize_t r = write(kill_fd, "1", 1);
    (void)r;
  }
}

/* Reads the pids in `c`'s cgroup.procs, SIGKILLing each when `kill_them`; returns how many there were. */
static int each_proc(const struct cg *c, int kill_them) {
  int fd = openat(c->fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  long pid = 0;
  int n = 0, digits = 0;
  for (ssize_t r; (r = read(fd, buf, sizeof buf)) > 0;)
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        pid = pid * 10 + (buf[i] - '0');
        digits = 1;
      } else if (digits) {
        if (kill_them) kill((pid_t)pid, SIGKILL);
        n++;
        pid = digits = 0;
      }
    }
  close(fd);
  return n;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Kills what is in `c` (through cgroup.kill `kfd`, or pid by pid) until it is empty, for 2 s at most. */
static void sweep(const struct cg *c, int kfd) {
  struct timespec pause = {0, 50000};
  for (long long until = now_ms() + 2000; each_proc(c, 0) > 0 && now_ms() < until;) {
    if (kfd < 0 || write(kfd, "1", 1) != 1) each_proc(c, 1);
    nanosleep(&pause, 0);
    if (pause.tv_nsec < 10000000) pause.tv_nsec *= 2;
  }
}

void cg_sweep(void) {
  struct cg *t = tree_cg();
  if (t && t->fd >= 0) sweep(t, kill_fd);
}

void cg_oom(void) {
  uint64_t count;
  if (read(oom_fd, &count, sizeof count) == sizeof count) oom_seen = 1;
  struct cg *t = tree_cg();
  if (kill_fd >= 0) cg_kill_async();
  else if (t) each_proc(t, 1);
}

void cg_read(struct cg_usage *u) {
  u->user_us = u->system_us = u->peak_bytes = u->oom_kills = -1;
  if (!cg_active()) return;
  struct cg *c = cpu_cg(), *m = memory_cg();
  if (c && c->kind == CG_V2) {
    u->user_us = get(c->fd, "cpu.stat", "user_usec");
    u->system_us = get(c->fd, "cpu.stat", "system_usec");
  } else if (c) {
    /*
     * cpuacct.usage is the scheduler's own count (ns); usage_user and usage_sys are sampled at each
     * tick (4 ms steps seen), so they only split it, as the kernel splits a process's rusage.
     */
    long long total = get(c->fd, "cpuacct.usage", 0), user = get(c->fd, "cpuacct.usage_user", 0), sys = get(c->fd, "cpuacct.usage_sys", 0);
    if (total >= 0 && user >= 0 && sys >= 0) {
      long long share = sys == 0 ? total : user == 0 ? 0 : (long long)((double)total * (double)user / (double)(user + sys));
      u->user_us = share / 1000;
      u->system_us = (total - share) / 1000;
    }
  }
  if (m && m->kind == CG_MEMORY) {
    u->peak_bytes = get(m->fd, "memory.max_usage_in_bytes", 0);
    u->oom_kills = get(m->fd, "memory.oom_control", "oom_kill");
  } else if (m) {
    u->peak_bytes = get(m->fd, "memory.peak", 0);
    u->oom_kills = get(m->fd, "memory.events", "oom_kill");
  }
  if (m && oom_seen && u->oom_kills < 1) u->oom_kills = 1;
}

void cg_remove(void) {
  if (kill_fd >= 0) close(kill_fd);
  if (oom_fd >= 0) close(oom_fd);
  kill_fd = oom_fd = -1;
  for (int i = 0; i < ncg; i++) {
    struct cg *c = &cgs[i];
    if (c->join >= 0) close(c->join);
    if (c->made) rmdir(c->dir);
    if (c->fd >= 0) close(c->fd);
    c->join = c->fd = -1;
    c->made = 0;
  }
}

/* True when `pid` is a running nebula-exec other than this one (not a zombie): its cgroups are in use. */
static int helper_alive(long pid) {
  if (pid == (long)getpid()) return 0;
  char path[64], stat[128] = {0};
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  const char *state = n > 0 ? strrchr(stat, ')') : 0; /* "<pid> (<comm>) <state> ..." */
  return state && state - stat >= 12 && strncmp(state - 12, "(nebula-exec)", 13) == 0 && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
}

int cg_reap(int n, char **parents) {
  for (int p = 0; p < n; p++) {
    DIR *d = opendir(parents[p]);
    if (!d) continue;
    for (struct dirent *e; (e = readdir(d));) {
      long pid;
      if (sscanf(e->d_name, "nebula-exec-%ld-", &pid) != 1 || helper_alive(pid)) continue;
      struct cg c = {.fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
      /* A helper in another pid namespace still holds its lock. */
      if (c.fd < 0 || flock(c.fd, LOCK_EX | LOCK_NB) != 0) {
        if (c.fd >= 0) close(c.fd);
        continue;
      }
      int kfd = openat(c.fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
      sweep(&c, kfd);
      if (kfd >= 0) close(kfd);
      unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
      close(c.fd);
    }
    closedir(d);
  }
  return 0;
}
