/*
 * nebula-supervisor: process 1 of a kept ("warm") nebula-faas container. It idles until the
 * host asks it to run the image's own command (its argv), runs that command once per request
 * with the request's bytes on stdin, relays stdout and stderr, reports how the run ended with
 * kernel timestamps, then kills every process the run left and clears the container's writable
 * places, so the next run finds the container as it was started.
 *
 * Frames on stdin (from the host) and stdout (to the host): 1 type byte, u32 big-endian
 * payload length, payload.
 *   host -> 'R' input (run once with this stdin)      'K' (kill the running invocation)
 *   us   -> 'H' u32 version (ready)                   'O' / 'E' stdout / stderr bytes
 *           'X' i32 how (0 exited, 1 killed by a signal, 2 could not start), i32 value (exit code,
 *               signal, errno), i64 start ns, i64 end ns (CLOCK_REALTIME), u32 OOM kills in the run
 *           'C' every process of the run is gone and the writable places are cleared
 * Build: src/runtimes/docker/supervisor/build.sh (static, no dependencies).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VERSION 1
#define MAX_REQUEST (64u << 20)
#define MAX_DEV 64

static char **command;
static sigset_t handled;
static int sfd;
static char *dev_names[MAX_DEV];
static int dev_count;
/* Set when /dev held more than MAX_DEV names: then nothing in /dev is ever removed. */
static int dev_unknown;

struct run {
  pid_t pid;
  int in, out, err;
  const unsigned char *input;
  size_t input_len, input_off;
  int reaped, status;
  uint64_t end_ns;
  unsigned oom0;
} r = {.pid = -1, .in = -1, .out = -1, .err = -1};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void put64(unsigned char *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}

/* Writes one frame to the host; a host that went away ends the container. */
static void frame(char type, const void *payload, uint32_t n) {
  unsigned char head[5];
  head[0] = (unsigned char)type;
  put32(head + 1, n);
  struct iovec v[2] = {{head, 5}, {(void *)payload, n}};
  int k = 0;
  while (k < 2) {
    ssize_t w = writev(1, v + k, 2 - k);
    if (w < 0) {
      if (errno == EINTR) continue;
      _exit(0);
    }
    while (k < 2 && (size_t)w >= v[k].iov_len) w -= (ssize_t)v[k++].iov_len;
    if (k < 2) {
      v[k].iov_base = (char *)v[k].iov_base + w;
      v[k].iov_len -= (size_t)w;
    }
  }
}

/* The memory cgroup's OOM kill counter (cgroup v2, then v1); 0 when neither is readable. */
static unsigned oom_kills(void) {
  static const char *files[] = {"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"};
  char line[128];
  unsigned n = 0;
  for (int i = 0; i < 2; i++) {
    FILE *f = fopen(files[i], "re");
    if (!f) continue;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "oom_kill %u", &n) == 1) break;
    fclose(f);
    return n;
  }
  return 0;
}

/* Reaps every child that has ended; notes the run's own process. */
static void reap(void) {
  int st;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0)
    if (p == r.pid && !r.reaped) {
      r.reaped = 1;
      r.status = st;
      r.end_ns = now_ns();
    }
}

/* Kills every process in the container but this one (kill(-1) from process 1), and reaps them. */
static void kill_all(void) {
  for (int i = 0; i < 5000; i++) {
    if (kill(-1, SIGKILL) < 0 && errno == ESRCH) return;
    reap();
    struct timespec d = {0, 1000000};
    nanosleep(&d, 0);
  }
}

static void remove_tree(int dir, int depth) {
  DIR *d = fdopendir(dup(dir));
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (unlinkat(dir, e->d_name, 0) == 0 || errno != EISDIR || depth > 32) continue;
    int sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0) {
      remove_tree(sub, depth + 1);
      close(sub);
    }
    unlinkat(dir, e->d_name, AT_REMOVEDIR);
  }
  closedir(d);
}

static void clear_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  remove_tree(fd, 0);
  close(fd);
}

static int known_dev(const char *name) {
  for (int i = 0; i < dev_count; i++)
    if (!strcmp(dev_names[i], name)) return 1;
  return 0;
}

/* What /dev held at start; anything a run adds there (only possible as root) is removed after it. */
static void snapshot_dev(void) {
  DIR *d = opendir("/dev");
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    char *name = dev_count < MAX_DEV ? strdup(e->d_name) : 0;
    if (!name) {
      dev_unknown = 1;
      break;
    }
    dev_names[dev_count++] = name;
  }
  closedir(d);
}

static void clear_dev(void) {
  /* A /dev this large is not a container's: never remove what the snapshot could not hold. */
  if (dev_unknown) return;
  int fd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR *d = fdopendir(dup(fd));
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (known_dev(e->d_name)) continue;
    if (unlinkat(fd, e->d_name, 0) == 0 || errno != EISDIR) continue;
    int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0) {
      remove_tree(sub, 1);
      close(sub);
    }
    unlinkat(fd, e->d_name, AT_REMOVEDIR);
  }
  if (d) closedir(d);
  close(fd);
}

/* System V IPC objects live in the container's IPC namespace as long as it does: remove them. */
static void clear_ipc(const char *path, int kind) {
  FILE *f = fopen(path, "re");
  if (!f) return;
  char line[512];
  long key, id;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%ld %ld", &key, &id) != 2) continue;
    if (kind == 0) shmctl((int)id, IPC_RMID, 0);
    else if (kind == 1) semctl((int)id, 0, IPC_RMID);
    else msgctl((int)id, IPC_RMID, 0);
  }
  fclose(f);
}

static void clear_places(void) {
  clear_dir("/dev/shm");
  clear_dir("/dev/mqueue");
  clear_dev();
  clear_ipc("/proc/sysvipc/shm", 0);
  clear_ipc("/proc/sysvipc/sem", 1);
  clear_ipc("/proc/sysvipc/msg", 2);
}

static void report(int how, int value, uint64_t start, uint64_t end, unsigned oom) {
  unsigned char x[28];
  put32(x, (uint32_t)how);
  put32(x + 4, (uint32_t)value);
  put64(x + 8, start);
  put64(x + 16, end);
  put32(x + 24, oom);
  frame('X', x, sizeof x);
}

static void drain(int *fd, char type) {
  static unsigned char buf[65536];
  while (*fd >= 0) {
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n > 0) {
      frame(type, buf, (uint32_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close(*fd);
    *fd = -1;
  }
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Starts the command with `input` on its stdin; reports at once when it cannot start. */
static int start(const unsigned char *input, size_t len, uint64_t *start_ns) {
  int in[2], out[2], err[2], st[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) return errno;
  r.oom0 = oom_kills();
  r.reaped = 0;
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, 0);
    setsid();
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    uint64_t t = now_ns();
    if (write(st[1], &t, sizeof t) < 0) _exit(127);
    execvp(command[0], command);
    int e = errno;
    if (write(st[1], &e, sizeof e) < 0) _exit(127);
    _exit(127);
  }
  int e = pid < 0 ? errno : 0;
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(st[1]);
  uint64_t t = now_ns();
  int exec_errno = 0;
  unsigned char got[12];
  size_t have = 0;
  ssize_t n;
  while (pid > 0 && (n = read(st[0], got + have, sizeof got - have)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    have += (size_t)n;
    if (have == sizeof got) break;
  }
  close(st[0]);
  if (have >= 8) memcpy(&t, got, 8);
  if (have == 12) memcpy(&exec_errno, got + 8, 4);
  *start_ns = t;
  if (e || exec_errno) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    r.pid = pid > 0 ? pid : -1;
    return e ? e : exec_errno;
  }
  r.pid = pid;
  r.in = in[1];
  r.out = out[0];
  r.err = err[0];
  r.input = input;
  r.input_len = len;
  r.input_off = 0;
  fcntl(r.in, F_SETFL, O_NONBLOCK);
  fcntl(r.out, F_SETFL, O_NONBLOCK);
  fcntl(r.err, F_SETFL, O_NONBLOCK);
  if (len == 0) close_fd(&r.in);
  return 0;
}

/* Control input: returns the next complete frame's type, or 0 when more bytes are needed. */
static unsigned char *ctl;
static size_t ctl_len, ctl_cap;

static int read_ctl(void) {
  if (ctl_cap - ctl_len < 65536) {
    ctl_cap = ctl_cap ? ctl_cap * 2 : 131072;
    ctl = realloc(ctl, ctl_cap);
    if (!ctl) _exit(3);
  }
  ssize_t n = read(0, ctl + ctl_len, ctl_cap - ctl_len);
  if (n == 0) return -1;
  if (n > 0) ctl_len += (size_t)n;
  return 0;
}

static int next_frame(unsigned char *type, uint32_t *len) {
  if (ctl_len < 5) return 0;
  uint32_t n = ((uint32_t)ctl[1] << 24) | ((uint32_t)ctl[2] << 16) | ((uint32_t)ctl[3] << 8) | ctl[4];
  if (n > MAX_REQUEST) _exit(3);
  if (ctl_len < 5 + (size_t)n) return 0;
  *type = ctl[0];
  *len = n;
  return 1;
}

static void consume(uint32_t len) {
  memmove(ctl, ctl + 5 + len, ctl_len - 5 - len);
  ctl_len -= 5 + (size_t)len;
}

static void on_signals(void) {
  struct signalfd_siginfo si;
  while (read(sfd, &si, sizeof si) == sizeof si)
    if (si.ssi_signo != SIGCHLD) {
      kill_all();
      _exit(0);
    }
  reap();
}

/* One run, from the 'R' frame to the 'C' frame. */
static void run_once(unsigned char *input, uint32_t len) {
  uint64_t start_ns = 0;
  int e = start(input, len, &start_ns);
  if (e) {
    kill_all();
    report(2, e, start_ns, now_ns(), 0);
    clear_places();
    frame('C', 0, 0);
    return;
  }
  int killed = 0;
  while (!r.reaped) {
    struct pollfd p[5] = {{0, POLLIN, 0}, {sfd, POLLIN, 0}, {r.out, POLLIN, 0}, {r.err, POLLIN, 0}, {r.in, POLLOUT, 0}};
    if (poll(p, 5, -1) < 0 && errno != EINTR) _exit(4);
    if (p[2].revents) drain(&r.out, 'O');
    if (p[3].revents) drain(&r.err, 'E');
    if (p[4].revents) {
      ssize_t w = write(r.in, r.input + r.input_off, r.input_len - r.input_off);
      if (w > 0) r.input_off += (size_t)w;
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || r.input_off == r.input_len) close_fd(&r.in);
    }
    if (p[1].revents) on_signals();
    if (p[0].revents) {
      if (read_ctl() < 0) {
        kill_all();
        _exit(0);
      }
      unsigned char type;
      uint32_t n;
      while (next_frame(&type, &n)) {
        consume(n);
        if (type == 'K' && !killed) {
          killed = 1;
          kill(-1, SIGKILL);
        }
      }
    }
  }
  kill_all();
  drain(&r.out, 'O');
  drain(&r.err, 'E');
  close_fd(&r.out);
  close_fd(&r.err);
  close_fd(&r.in);
  unsigned oom = oom_kills() - r.oom0;
  if (WIFSIGNALED(r.status)) report(1, WTERMSIG(r.status), start_ns, r.end_ns, oom);
  else report(0, WEXITSTATUS(r.status), start_ns, r.end_ns, oom);
  r.pid = -1;
  clear_places();
  frame('C', 0, 0);
}

static void nothing(int sig) {
  (void)sig;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: nebula-supervisor command [arg...]\n");
    return 2;
  }
  /* kill(-1) from anything but process 1 of its own PID namespace would reach the host's processes. */
  if (getpid() != 1) {
    fprintf(stderr, "nebula-supervisor: must run as process 1 of a container\n");
    return 2;
  }
  command = argv + 1;
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
  sigemptyset(&handled);
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) {
    sigaddset(&handled, sigs[i]);
    signal(sigs[i], nothing);
  }
  sigprocmask(SIG_BLOCK, &handled, 0);
  signal(SIGPIPE, SIG_IGN);
  sfd = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 4;
  snapshot_dev();
  unsigned char v[4];
  put32(v, VERSION);
  frame('H', v, 4);
  for (;;) {
    unsigned char type;
    uint32_t n;
    while (next_frame(&type, &n)) {
      if (type == 'R') {
        unsigned char *input = malloc(n ? n : 1);
        if (!input) _exit(3);
        memcpy(input, ctl + 5, n);
        consume(n);
        run_once(input, n);
        free(input);
      } else {
        consume(n);
      }
    }
    struct pollfd p[2] = {{0, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) return 4;
    if (p[1].revents) on_signals();
    if (p[0].revents && read_ctl() < 0) {
      kill_all();
      return 0;
    }
  }
}
