/*
 * nebula-supervisor: process 1 of a kept ("warm") nebula-faas container. It idles until the
 * host asks it to run the image's own command (its argv), runs that command once per request
 * with the request's bytes on stdin, relays stdout and stderr, reports how the run ended with
 * kernel timestamps, then kills every process the run left and clears the container's writable
 * places (clean.c), so the next run finds the container as it was started, or the host is told
 * it cannot and retires the container.
 *
 * A run's processes have the supervisor's user, so the supervisor keeps itself out of their
 * reach: it is not dumpable (its memory, descriptors, environment and directories under
 * /proc/1 are closed to them, and so is ptrace), it ignores the signals they send it, it wipes
 * each request and each piece of output once relayed, and what they may change of it from
 * outside (limits, scheduling, ...) is checked after each run.
 *
 * Frames on stdin (from the host) and stdout (to the host): 1 type byte, u32 big-endian
 * payload length, payload. Every run has a sequence number chosen by the host.
 *   host -> 'R' u32 seq, input (run once with this stdin)    'K' u32 seq (kill that run)
 *   us   -> 'H' u32 version (ready)                          'O' / 'E' stdout / stderr bytes
 *           'X' u32 seq, i32 how (0 exited, 1 killed by a signal, 2 could not start), i32 value
 *               (exit code, signal, errno), i64 start ns, i64 end ns (CLOCK_REALTIME), u32 OOM
 *               kills in the run
 *           'C' u32 seq, u32 flags: the run's clean-up is over; 0 when the container is as it
 *               started, else why not (clean.h), and the host retires it
 * Build: src/runtimes/docker/supervisor/build.sh (static, no dependencies).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clean.h"

#define VERSION 2
#define MAX_REQUEST (64u << 20)
/* The control buffer's size between runs; a large request grows it for its run only. */
#define CTL_IDLE (128u << 10)
/* How long the clean-up after a run may take before the container is given up. */
#define CLEAN_BUDGET_NS 2000000000ull

static char **command;
static sigset_t handled;
static int sfd;

struct run {
  uint32_t seq;
  pid_t pid;
  int in, out, err;
  const unsigned char *input;
  size_t input_len, input_off;
  int reaped, status;
  uint64_t end_ns;
  unsigned oom0;
} r = {.pid = -1, .in = -1, .out = -1, .err = -1};

/* The last output relayed: wiped after each run. */
static unsigned char relay[65536];

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static uint32_t get32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
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

/* Kills every process in the container but this one (kill(-1) from process 1), and reaps them.
   Returns 0 when one outlived 5 s of kills. */
static int kill_all(void) {
  for (int i = 0; i < 5000; i++) {
    if (kill(-1, SIGKILL) < 0 && errno == ESRCH) return 1;
    reap();
    struct timespec d = {0, 1000000};
    nanosleep(&d, 0);
  }
  return 0;
}

static void report(int how, int value, uint64_t start, uint64_t end, unsigned oom) {
  unsigned char x[32];
  put32(x, r.seq);
  put32(x + 4, (uint32_t)how);
  put32(x + 8, (uint32_t)value);
  put64(x + 12, start);
  put64(x + 20, end);
  put32(x + 28, oom);
  frame('X', x, sizeof x);
}

static void drain(int *fd, char type) {
  while (*fd >= 0) {
    ssize_t n = read(*fd, relay, sizeof relay);
    if (n > 0) {
      frame(type, relay, (uint32_t)n);
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

/* Control input from the host, kept until a frame is whole. */
static unsigned char *ctl;
static size_t ctl_len, ctl_cap;

static int read_ctl(void) {
  if (ctl_cap - ctl_len < 65536) {
    size_t cap = ctl_cap ? ctl_cap * 2 : CTL_IDLE;
    unsigned char *grown = malloc(cap);
    if (!grown) _exit(3);
    if (ctl) {
      memcpy(grown, ctl, ctl_len);
      explicit_bzero(ctl, ctl_cap);
      free(ctl);
    }
    ctl = grown;
    ctl_cap = cap;
  }
  ssize_t n = read(0, ctl + ctl_len, ctl_cap - ctl_len);
  if (n == 0) return -1;
  if (n > 0) ctl_len += (size_t)n;
  return 0;
}

static int next_frame(unsigned char *type, uint32_t *len) {
  if (ctl_len < 5) return 0;
  uint32_t n = get32(ctl + 1);
  if (n > MAX_REQUEST) _exit(3);
  if (ctl_len < 5 + (size_t)n) return 0;
  *type = ctl[0];
  *len = n;
  return 1;
}

/* Drops the first frame, wiping the bytes it leaves behind. */
static void consume(uint32_t len) {
  size_t n = 5 + (size_t)len;
  memmove(ctl, ctl + n, ctl_len - n);
  explicit_bzero(ctl + ctl_len - n, n);
  ctl_len -= n;
}

/* Between runs: wipes what is left of the last request and gives back a large buffer. */
static void wipe(void) {
  explicit_bzero(relay, sizeof relay);
  if (ctl_cap <= CTL_IDLE || ctl_len > CTL_IDLE / 2) return;
  unsigned char *small = malloc(CTL_IDLE);
  if (!small) return;
  memcpy(small, ctl, ctl_len);
  explicit_bzero(ctl, ctl_cap);
  free(ctl);
  ctl = small;
  ctl_cap = CTL_IDLE;
}

/* Signals: children's exits are reaped; a stop request from outside the container (the engine,
   whose signals carry no sender in this PID namespace) ends it; a run's processes, which share
   the supervisor's user, may send it signals too: those are ignored. */
static void on_signals(void) {
  struct signalfd_siginfo si;
  while (read(sfd, &si, sizeof si) == sizeof si)
    if (si.ssi_signo != SIGCHLD && si.ssi_pid == 0) {
      kill_all();
      _exit(0);
    }
  reap();
}

/* One run, from the 'R' frame to the 'C' frame. */
static void run_once(uint32_t seq, unsigned char *input, uint32_t len) {
  uint64_t start_ns = 0;
  r.seq = seq;
  int e = start(input, len, &start_ns);
  uint32_t dirty = 0;
  if (e) {
    if (!kill_all()) dirty |= DIRTY_PROCESSES;
    report(2, e, start_ns, now_ns(), 0);
  } else {
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
          int kill_this = type == 'K' && n == 4 && get32(ctl + 5) == seq;
          consume(n);
          if (kill_this && !killed) {
            killed = 1;
            kill(-1, SIGKILL);
          }
        }
      }
    }
    if (!kill_all()) dirty |= DIRTY_PROCESSES;
    drain(&r.out, 'O');
    drain(&r.err, 'E');
    close_fd(&r.out);
    close_fd(&r.err);
    close_fd(&r.in);
    unsigned oom = oom_kills() - r.oom0;
    if (WIFSIGNALED(r.status)) report(1, WTERMSIG(r.status), start_ns, r.end_ns, oom);
    else report(0, WEXITSTATUS(r.status), start_ns, r.end_ns, oom);
  }
  r.pid = -1;
  r.input = 0;
  explicit_bzero(input, len);
  wipe();
  /* A process that outlived the kills could change the places under the clean-up's feet: the
     container is retired as it is. */
  if (!dirty) dirty = clean_after_run(CLEAN_BUDGET_NS);
  unsigned char c[8];
  put32(c, seq);
  put32(c + 4, dirty);
  frame('C', c, sizeof c);
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
  /* Before anything else: /proc/1/mem, /proc/1/fd, /proc/1/environ, /proc/1/cwd and ptrace
     then need a capability the container does not have, whatever the user. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return 4;
  /* Nothing the engine passed in reaches a run but stdio (close_range, Linux 5.11). */
  syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
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
  clean_record();
  unsigned char v[4];
  put32(v, VERSION);
  frame('H', v, 4);
  for (;;) {
    unsigned char type;
    uint32_t n;
    while (next_frame(&type, &n)) {
      if (type == 'R' && n >= 4) {
        uint32_t seq = get32(ctl + 5);
        unsigned char *input = malloc(n - 4 ? n - 4 : 1);
        if (!input) _exit(3);
        memcpy(input, ctl + 9, n - 4);
        consume(n);
        run_once(seq, input, n - 4);
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
