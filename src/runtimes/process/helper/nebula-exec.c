/*
 * nebula-exec: starts one function for the process runtime of nebula-faas, then reports on it.
 *
 * Usage: nebula-exec [--cgroup <kind>:<parent>]... [--memory-max <bytes>] <path> <argv0> [args...]
 *        with fd 3 a socket to the host (stdio 0-2 are the function's)
 *        nebula-exec --reap <parent>...   removes the cgroups of helpers that died (see cgroup.h)
 *
 * It closes every descriptor above 3, marks 3 close-on-exec, makes the run's cgroups (one per --cgroup
 * parent, the tree's memory limit set to --memory-max), and waits (parked) for one line on fd 3:
 *   go <address-space bytes> <cpu seconds> <processes> <file-size bytes>\n     (0: leave that limit alone)
 * Then it vforks (on cgroup v2: clone3 into the cgroup); the child enters a process group of its own and the
 * cgroups, sets those limits (RLIMIT_AS, RLIMIT_CPU, RLIMIT_NPROC, RLIMIT_FSIZE; RLIMIT_CORE 0), and execs
 * <path> with the environment it was given. The helper then closes its stdio: the function's output ends
 * when the function's tree is gone.
 * Lines written back on fd 3 (times: CLOCK_MONOTONIC, ns; -1: not known):
 *   start <pid> <t> <errno of each limit, 0 = set or not asked> <cgroups>
 *         the function is running (execve returned); <cgroups>: "-" none asked, "ok", or "<step>:<errno>"
 *   fail <errno>                                                   execve failed: nothing ran
 *   end <wait status> <t> <max RSS KiB> <user us> <system us> <tree user us> <tree system us> <tree peak bytes> <oom kills>
 *         the function exited; its group and cgroups were swept; the tree figures come from the cgroups,
 *         which are removed after this line
 * SIGTERM (from the host on timeout or abort) kills the function's process group and cgroup with SIGKILL; the
 * end line follows as usual. At the memory limit the whole tree is killed. When the host dies, the helper gets
 * SIGTERM (parent-death signal) and does the same.
 * Released while parked (end of file on fd 3, or SIGTERM), it removes its still empty working directory and cgroups.
 * Build: build.sh beside this file (static, musl or glibc).
 */
#define _GNU_SOURCE
#include "cgroup.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOST_FD 3
#ifndef SYS_close_range
#define SYS_close_range 436 /* the same number on every architecture */
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* clone3's arguments up to `cgroup` (Linux 5.7, CLONE_ARGS_SIZE_VER2). */
struct clone_args_v2 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

extern char **environ;

/* > 0: the running function (its pid is its process group); 0: not started; -1: gone. */
static volatile pid_t fn_pid;
/* The working directory the host made for this run, removed (when still empty) if released while parked. */
static char parked_dir[4096];

static void released(void) {
  if (parked_dir[0]) rmdir(parked_dir);
  cg_remove();
  _exit(0);
}

static void on_term(int sig) {
  (void)sig;
  pid_t p = fn_pid;
  if (p > 0) {
    kill(-p, SIGKILL);
    kill(p, SIGKILL);
    cg_kill_async();
  } else if (p == 0)
    released();
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* One line to the host. MSG_NOSIGNAL: a host that went away must not kill the helper with SIGPIPE. */
static void tell(const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= (int)sizeof line) return;
  for (int off = 0; off < n;) {
    ssize_t w = send(HOST_FD, line + off, (size_t)(n - off), MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = write(HOST_FD, line + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += (int)w;
  }
}

/* Closes every descriptor from `lowest` up: close_range (Linux 5.9+), else the list in /proc/self/fd. */
static void close_from(int lowest) {
  if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    for (int fd = lowest; fd < 65536; fd++) close(fd);
    return;
  }
  int fds[1024], n = 0, own = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d)) && n < 1024) {
    int fd = atoi(e->d_name);
    if (fd >= lowest && fd != own) fds[n++] = fd;
  }
  closedir(d);
  for (int i = 0; i < n; i++) close(fds[i]);
  if (n == 1024) close_from(lowest); /* more than fitted: go again */
}

/* Reads the go line; returns 0 when the host closed the socket (the parked helper is released). */
static int read_go(unsigned long long lim[4]) {
  char line[256];
  size_t n = 0;
  while (n < sizeof line - 1) {
    ssize_t r = read(HOST_FD, line + n, sizeof line - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    n += (size_t)r;
    if (memchr(line, '\n', n)) break;
  }
  line[n] = 0;
  return sscanf(line, "go %llu %llu %llu %llu", &lim[0], &lim[1], &lim[2], &lim[3]) == 4 ? 1 : -1;
}

/* What the function's process says on its way to execve, through a close-on-exec pipe: errnos, 0 = done. */
struct prelude {
  int lim_err[4];
  int join_err;
  int exec_err;
};

/* The function's process: a group of its own and the run's cgroups, the limits, then execve. Never returns. */
static void become_function(int report, int join_v2, const unsigned long long lim[4], char *path, char **argv) {
  static const int res[4] = {RLIMIT_AS, RLIMIT_CPU, RLIMIT_NPROC, RLIMIT_FSIZE};
  struct prelude said = {{0, 0, 0, 0}, 0, 0};
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (cg_active()) said.join_err = cg_join(join_v2);
  for (int i = 0; i < 4; i++) {
    if (!lim[i]) continue;
    /* CPU: SIGXCPU at the soft limit, SIGKILL a second later. */
    struct rlimit r = {lim[i], i == 1 ? lim[i] + 1 : lim[i]};
    if (syscall(SYS_prlimit64, 0, res[i], &r, 0) != 0) said.lim_err[i] = errno;
  }
  struct rlimit nocore = {0, 0};
  syscall(SYS_prlimit64, 0, RLIMIT_CORE, &nocore, 0);
  sigset_t none;
  sigemptyset(&none);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, _NSIG / 8);
  ssize_t w = write(report, &said, sizeof said);
  execve(path, argv, environ);
  said.exec_err = errno;
  w = write(report, &said, sizeof said);
  (void)w;
  _exit(127);
}

/*
 * Starts the function; returns its pid once execve has replaced it (CLONE_VFORK: the helper waits
 * until then, so the time taken next is "running"), or -1. With a v2 cgroup it is cloned straight
 * into it (Linux 5.7+); else, or where that fails, vforked, and it joins its cgroups itself.
 */
static pid_t start_function(int report, const unsigned long long lim[4], char *path, char **argv) {
  int into = cg_clone_fd();
  if (into >= 0) {
    struct clone_args_v2 args = {.flags = CLONE_VFORK | CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)into};
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) become_function(report, 0, lim, path, argv);
    if (pid > 0) return pid;
  }
  pid_t pid = vfork();
  if (pid == 0) become_function(report, into >= 0, lim, path, argv);
  return pid;
}

static int usage(void) {
  fprintf(stderr, "usage: nebula-exec [--cgroup <kind>:<parent>]... [--memory-max <bytes>] <path> <argv0> [args...]   (fd 3: a socket to the host)\n"
                  "       nebula-exec --reap <parent>...\n");
  return 64;
}

/*
 * Waits until the function has exited, without reaping it: the zombie keeps the group's id from being
 * reused while it is swept. When the kernel tells of the tree reaching its memory limit (cgroup v1 kills
 * one process there), the rest of the tree is killed at once.
 */
static void wait_exit(pid_t pid) {
  int pfd = cg_oom_fd() >= 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
  while (pfd >= 0) {
    struct pollfd p[2] = {{pfd, POLLIN, 0}, {cg_oom_fd(), POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    if (p[0].revents) break;
    if (p[1].revents) cg_oom();
  }
  if (pfd >= 0) close(pfd);
  siginfo_t si;
  while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--reap") == 0) return cg_reap(argc - 2, argv + 2);
  int a = 1;
  for (; a + 1 < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
    if (strcmp(argv[a], "--cgroup") == 0 && cg_add(argv[a + 1]) == 0) continue;
    if (strcmp(argv[a], "--memory-max") == 0) {
      cg_set_memory_max(strtoull(argv[a + 1], 0, 10));
      continue;
    }
    return usage();
  }
  if (argc - a < 2) return usage();
  char *path = argv[a], **fn_argv = argv + a + 1;
  pid_t host = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != host) return 0;
  if (fcntl(HOST_FD, F_SETFD, FD_CLOEXEC) != 0) {
    fprintf(stderr, "nebula-exec: fd 3 is not open: %s\n", strerror(errno));
    return 64;
  }
  close_from(HOST_FD + 1);
  if (!getcwd(parked_dir, sizeof parked_dir)) parked_dir[0] = 0;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, 0);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);

  /* The cgroups are made now, while parked: a prewarmed run only joins them. */
  char tag[64];
  snprintf(tag, sizeof tag, "%d-%lld", (int)getpid(), now_ns());
  sigprocmask(SIG_BLOCK, &term, 0);
  cg_create(tag);
  sigprocmask(SIG_UNBLOCK, &term, 0);

  unsigned long long lim[4];
  int go = read_go(lim);
  if (go == 0) released();
  if (go < 0) {
    cg_remove();
    tell("fail %d\n", EINVAL);
    return 64;
  }

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    cg_remove();
    tell("fail %d\n", errno);
    return 0;
  }
  /* Held back until fn_pid is known, so a stop cannot fall between the fork and the assignment. */
  sigprocmask(SIG_BLOCK, &term, 0);
  pid_t pid = start_function(report[1], lim, path, fn_argv);
  long long start = now_ns();
  int start_err = errno;
  close(report[1]);
  struct prelude said = {{0, 0, 0, 0}, 0, 0}, got;
  while (read(report[0], &got, sizeof got) == (ssize_t)sizeof got) said = got;
  close(report[0]);
  if (pid < 0 || said.exec_err) {
    if (pid > 0) waitpid(pid, 0, 0);
    cg_remove();
    tell("fail %d\n", pid < 0 ? start_err : said.exec_err);
    return 0;
  }
  if (said.join_err) cg_join_failed(said.join_err);
  /* The function's stdio is its own now: once it and its tree are gone, the host sees its output end. */
  close(0);
  close(1);
  close(2);
  fn_pid = pid;
  sigprocmask(SIG_UNBLOCK, &term, 0);
  tell("start %d %lld %d %d %d %d %s\n", (int)pid, start, said.lim_err[0], said.lim_err[1], said.lim_err[2], said.lim_err[3], cg_state());

  wait_exit(pid);
  long long end = now_ns();
  sigprocmask(SIG_BLOCK, &term, 0);
  kill(-pid, SIGKILL);
  cg_sweep();
  fn_pid = -1;
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  struct cg_usage tree;
  cg_read(&tree);
  tell("end %d %lld %ld %lld %lld %lld %lld %lld %lld\n", status, end, ru.ru_maxrss, (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
       (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec, tree.user_us, tree.system_us, tree.peak_bytes, tree.oom_kills);
  cg_remove();
  return 0;
}
