/*
 * nebula-exec: starts one function for the process runtime of nebula-faas, then reports on it.
 *
 * Usage: nebula-exec <path> <argv0> [args...]   with fd 3 a socket to the host (stdio 0-2 are the function's)
 *
 * It closes every descriptor above 3, marks 3 close-on-exec, and waits (parked) for one line on fd 3:
 *   go <address-space bytes> <cpu seconds> <processes> <file-size bytes>\n     (0: leave that limit alone)
 * Then it vforks; the child enters a process group of its own, sets those limits (RLIMIT_AS, RLIMIT_CPU,
 * RLIMIT_NPROC, RLIMIT_FSIZE; RLIMIT_CORE 0), and execs <path> with the environment it was given.
 * Lines written back on fd 3 (times: CLOCK_MONOTONIC, ns):
 *   start <pid> <t> <errno of each limit, 0 = set or not asked>   the function is running (execve returned)
 *   fail <errno>                                                   execve failed: nothing ran
 *   end <wait status> <t> <max RSS KiB> <user us> <system us>      the function exited; its group was swept
 * SIGTERM (from the host on timeout or abort) kills the function's process group with SIGKILL; the end line
 * follows as usual. When the host dies, the helper gets SIGTERM (parent-death signal) and does the same.
 * Released while parked (end of file on fd 3, or SIGTERM), it removes its still empty working directory.
 * Build: build.sh beside this file (static, musl or glibc).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
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

extern char **environ;

/* > 0: the running function (its pid is its process group); 0: not started; -1: gone. */
static volatile pid_t fn_pid;
/* The working directory the host made for this run, removed (when still empty) if released while parked. */
static char parked_dir[4096];

static void released(void) {
  if (parked_dir[0]) rmdir(parked_dir);
  _exit(0);
}

static void on_term(int sig) {
  (void)sig;
  pid_t p = fn_pid;
  if (p > 0) kill(-p, SIGKILL);
  else if (p == 0) released();
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

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: nebula-exec <path> <argv0> [args...]   (fd 3: a socket to the host)\n");
    return 64;
  }
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

  unsigned long long lim[4];
  int go = read_go(lim);
  if (go == 0) released();
  if (go < 0) {
    tell("fail %d\n", EINVAL);
    return 64;
  }

  static const int res[4] = {RLIMIT_AS, RLIMIT_CPU, RLIMIT_NPROC, RLIMIT_FSIZE};
  volatile int lim_err[4] = {0, 0, 0, 0};
  volatile int exec_err = 0;
  sigset_t term, none;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigemptyset(&none);
  /* Held back until fn_pid is known, so a stop cannot fall between vfork and the assignment. */
  sigprocmask(SIG_BLOCK, &term, 0);

  /* vfork: the parent resumes once execve has replaced the child, so the time taken then is "running". */
  pid_t pid = vfork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int i = 0; i < 4; i++) {
      if (!lim[i]) continue;
      /* CPU: SIGXCPU at the soft limit, SIGKILL a second later. */
      struct rlimit r = {lim[i], i == 1 ? lim[i] + 1 : lim[i]};
      if (syscall(SYS_prlimit64, 0, res[i], &r, 0) != 0) lim_err[i] = errno;
    }
    struct rlimit nocore = {0, 0};
    syscall(SYS_prlimit64, 0, RLIMIT_CORE, &nocore, 0);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, _NSIG / 8);
    execve(argv[1], argv + 2, environ);
    exec_err = errno;
    _exit(127);
  }
  long long start = now_ns();
  if (pid < 0) {
    tell("fail %d\n", errno);
    return 0;
  }
  if (exec_err) {
    waitpid(pid, 0, 0);
    tell("fail %d\n", exec_err);
    return 0;
  }
  fn_pid = pid;
  sigprocmask(SIG_UNBLOCK, &term, 0);
  tell("start %d %lld %d %d %d %d\n", (int)pid, start, lim_err[0], lim_err[1], lim_err[2], lim_err[3]);

  /* Wait without reaping: the zombie keeps the group's id from being reused while it is swept. */
  siginfo_t si;
  while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  long long end = now_ns();
  sigprocmask(SIG_BLOCK, &term, 0);
  kill(-pid, SIGKILL);
  fn_pid = -1;
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  tell("end %d %lld %ld %lld %lld\n", status, end, ru.ru_maxrss, (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
       (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec);
  return 0;
}
