/*
 * A hostile function for the warm-reuse tests (and bench/soak-docker.mjs): its input, a JSON
 * string "ACTION [ARG]", says what to leave behind in a kept container or what to try against
 * its supervisor; "survey" describes everything a run can see that another run could have left
 * (the writable places, System V IPC, processes, the attributes a forked process inherits, file
 * locks), so that two surveys can be compared.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *out;
static size_t out_len, out_cap;

static void emit(const char *s, size_t n) {
  if (out_len + n + 1 > out_cap) {
    out_cap = (out_len + n + 1) * 2;
    out = realloc(out, out_cap);
    if (!out) exit(3);
  }
  memcpy(out + out_len, s, n);
  out_len += n;
  out[out_len] = 0;
}

static void emitf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emitf(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  emit(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Bytes as a JSON string's contents: every byte outside printable ASCII as \u00XX. */
static void emit_escaped(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') emitf("\\%c", c);
    else if (c < 0x20 || c > 0x7e) emitf("\\u%04x", c);
    else emit((const char *)&c, 1);
  }
}

/* One line per file under `fd` (path, type and mode, owner, links, size, device, link target),
   never following links nor entering other mounts below depth 0; inode numbers and times are
   left out: they differ between any two containers. */
static void list(int fd, const char *rel, int depth, int max_depth) {
  int at = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = at < 0 ? 0 : fdopendir(at);
  if (!d) {
    emitf("%s: unreadable (%s)\\n", rel, strerror(errno));
    return;
  }
  struct stat top;
  fstat(fd, &top);
  /* Sorted, so that two listings of the same tree are equal. */
  char **names = 0;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      names = realloc(names, (n + 1) * sizeof *names);
      names[n++] = strdup(e->d_name);
    }
  closedir(d);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (strcmp(names[i], names[j]) > 0) {
        char *t = names[i];
        names[i] = names[j];
        names[j] = t;
      }
  for (size_t i = 0; i < n; i++) {
    struct stat s;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", rel, names[i]);
    if (fstatat(fd, names[i], &s, AT_SYMLINK_NOFOLLOW) < 0) continue;
    emit_escaped(path, strlen(path));
    emitf(" %o %d:%d n%lu s%lld d%lx", (unsigned)s.st_mode, (int)s.st_uid, (int)s.st_gid, (unsigned long)s.st_nlink,
          S_ISDIR(s.st_mode) && s.st_dev != top.st_dev ? 0LL : (long long)s.st_size, (unsigned long)s.st_rdev);
    if (S_ISLNK(s.st_mode)) {
      char target[4096];
      ssize_t k = readlinkat(fd, names[i], target, sizeof target);
      emit(" -> ", 4);
      if (k > 0) emit_escaped(target, (size_t)k);
    }
    emit("\\n", 2);
    if (S_ISDIR(s.st_mode) && (s.st_dev == top.st_dev || depth == 0)) {
      if (depth >= max_depth) {
        emitf("  (deeper)\\n");
      } else {
        int sub = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
          list(sub, path, depth + 1, max_depth);
          close(sub);
        } else {
          emitf("  (unreadable: %s)\\n", strerror(errno));
        }
      }
    }
    free(names[i]);
  }
  free(names);
}

static void list_place(const char *path, int max_depth) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat s;
  if (fd < 0 || fstat(fd, &s) < 0) {
    emitf("%s: missing\\n", path);
    return;
  }
  emitf("%s %o %d:%d n%lu\\n", path, (unsigned)s.st_mode, (int)s.st_uid, (int)s.st_gid, (unsigned long)s.st_nlink);
  list(fd, path, 0, max_depth);
  close(fd);
}

static int count_lines(const char *path) {
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n - 1;
}

static int count_entries(const char *dir, int numeric) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && (!numeric || (e->d_name[0] >= '0' && e->d_name[0] <= '9'))) n++;
  closedir(d);
  return n;
}

static void status_field(const char *name) {
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  size_t n = strlen(name);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, name, n) && line[n] == ':') {
      char *v = line + n + 1;
      while (*v == ' ' || *v == '\t') v++;
      v[strcspn(v, "\n")] = 0;
      emitf("%s ", name);
      emit_escaped(v, strlen(v));
      emit("\\n", 2);
    }
  if (f) fclose(f);
}

static void small_file(const char *path) {
  char buf[64] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 0) buf[n] = 0;
    close(fd);
  }
  buf[strcspn(buf, "\n")] = 0;
  emitf("%s %s\\n", path, buf);
}

static void survey(const char *self) {
  emit("{\"survey\":\"", 11);
  list_place("/dev", 64);
  list_place("/tmp", 64);
  list_place("/sys/fs/cgroup", 0);
  emitf("ipc shm %d sem %d msg %d\\n", count_lines("/proc/sysvipc/shm"), count_lines("/proc/sysvipc/sem"), count_lines("/proc/sysvipc/msg"));
  emitf("tcp %d tcp6 %d\\n", count_lines("/proc/net/tcp"), count_lines("/proc/net/tcp6"));
  for (int i = 0; i < RLIMIT_NLIMITS; i++) {
    struct rlimit r;
    getrlimit(i, &r);
    emitf("rlimit %d %llu %llu\\n", i, (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
  }
  cpu_set_t cpus;
  sched_getaffinity(0, sizeof cpus, &cpus);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  emitf("nice %d policy %d cpus %d ioprio %ld slack %d\\n", nice, (int)syscall(SYS_sched_getscheduler, 0), CPU_COUNT(&cpus), syscall(SYS_ioprio_get, 1, 0),
        prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
  small_file("/proc/self/oom_score_adj");
  small_file("/proc/self/coredump_filter");
  status_field("SigBlk");
  status_field("SigIgn");
  status_field("Uid");
  status_field("Gid");
  status_field("Groups");
  mode_t mask = umask(0);
  umask(mask);
  char cwd[4096] = "?";
  if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
  emitf("umask %o cwd %s fds %d\\n", (unsigned)mask, cwd, count_entries("/proc/self/fd", 1));
  extern char **environ;
  for (char **e = environ; *e; e++) {
    /* The one variable that names the container. */
    if (!strncmp(*e, "HOSTNAME=", 9)) {
      emitf("env HOSTNAME=(the container's)\\n");
      continue;
    }
    emit("env ", 4);
    emit_escaped(*e, strlen(*e));
    emit("\\n", 2);
  }
  /* A lock a process of an earlier run still held would make this fail. */
  int fd = open(self, O_RDONLY | O_CLOEXEC);
  emitf("lock %s\\n", fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 ? "free" : "held");
  emitf("\",\"processes\":%d}\n", count_entries("/proc", 1));
  fputs(out, stdout);
}

/* A chain of `depth` directories named d under `dir`, a file at the bottom. */
static int deep(const char *dir, int depth) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  for (int i = 0; fd >= 0 && i < depth; i++) {
    mkdirat(fd, "d", 0700);
    int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
    close(fd);
    fd = sub;
  }
  if (fd < 0) return 0;
  int f = openat(fd, "bottom", O_CREAT | O_WRONLY, 0600);
  close(f);
  close(fd);
  return f >= 0;
}

/* Files of every kind, with awkward names and permissions, in `dir`. */
static int litter(const char *dir) {
  char p[512];
  int ok = 1;
#define AT(fmt, ...) (snprintf(p, sizeof p, "%s/" fmt, dir, ##__VA_ARGS__), p)
  ok &= mkdir(AT("locked"), 0700) == 0;
  ok &= mkdir(AT("locked/inner"), 0700) == 0;
  close(open(AT("locked/inner/file"), O_CREAT | O_WRONLY, 0600));
  chmod(AT("locked/inner"), 0);
  chmod(AT("locked"), 0500);
  ok &= mkdir(AT("closed"), 0700) == 0;
  close(open(AT("closed/file"), O_CREAT | O_WRONLY, 0600));
  chmod(AT("closed"), 0);
  ok &= mkdir(AT("sticky"), 01777) == 0;
  chmod(AT("sticky"), 03777);
  close(open(AT("sticky/file"), O_CREAT | O_WRONLY, 0));
  int f = open(AT("linked"), O_CREAT | O_WRONLY, 0644);
  ok &= write(f, "data", 4) == 4;
  close(f);
  for (int i = 0; i < 5; i++) {
    char q[512];
    snprintf(q, sizeof q, "%s/hardlink%d", dir, i);
    link(AT("linked"), q);
  }
  ok &= mkfifo(AT("fifo"), 0600) == 0;
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s/socket", dir);
  ok &= bind(s, (struct sockaddr *)&a, sizeof a) == 0;
  symlink("/dev/null", AT("to-null"));
  symlink("loop", AT("loop"));
  symlink("/nowhere", AT("dangling"));
  close(open(AT("new\nline"), O_CREAT | O_WRONLY, 0600));
  close(open(AT("-dash"), O_CREAT | O_WRONLY, 0600));
  close(open(AT("\xff\xfe bytes"), O_CREAT | O_WRONLY, 0600));
  close(open(AT(".nebula-faas-0"), O_CREAT | O_WRONLY, 0600));
  close(open(AT(".hidden"), O_CREAT | O_WRONLY, 0600));
  char longname[256];
  memset(longname, 'L', 255);
  longname[255] = 0;
  ok &= close(open(AT("%s", longname), O_CREAT | O_WRONLY, 0600)) == 0;
  chmod(AT("linked"), 0);
#undef AT
  return ok;
}

static int many(const char *dir, int n) {
  char p[512];
  int made = 0;
  for (int i = 0; i < n; i++) {
    snprintf(p, sizeof p, "%s/f%d", dir, i);
    int f = open(p, O_CREAT | O_WRONLY, 0600);
    if (f >= 0) made++, close(f);
  }
  return made;
}

static int ipc_and_queues(void) {
  int ok = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) >= 0;
  ok &= semget(IPC_PRIVATE, 1, IPC_CREAT | 0600) >= 0;
  ok &= msgget(IPC_PRIVATE, IPC_CREAT | 0600) >= 0;
  ok &= mq_open("/left", O_CREAT | O_RDWR, 0600, NULL) != (mqd_t)-1;
  return ok;
}

/* Looks for `needle` in every readable region of process 1's memory. */
static int search_memory(const char *needle) {
  FILE *maps = fopen("/proc/1/maps", "re");
  int mem = open("/proc/1/mem", O_RDONLY);
  if (!maps || mem < 0) {
    if (maps) fclose(maps);
    if (mem >= 0) close(mem);
    return 0;
  }
  char line[512];
  size_t n = strlen(needle);
  int found = 0;
  while (!found && fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || hi - lo > (256ul << 20)) continue;
    char *buf = malloc(hi - lo);
    ssize_t got = buf ? pread(mem, buf, hi - lo, (off_t)lo) : -1;
    for (ssize_t i = 0; got > 0 && i + (ssize_t)n <= got && !found; i++) found = !memcmp(buf + i, needle, n);
    free(buf);
  }
  fclose(maps);
  close(mem);
  return found;
}

static const char *yes(int ok) {
  return ok ? "true" : "false";
}

/* What a run's process can do to process 1 (the supervisor): each attempt, and whether it worked. */
static void peek(const char *secret) {
  char needle[128];
  /* Built here, so that this run's own input does not hold it. */
  snprintf(needle, sizeof needle, "SECRET-%s", secret);
  int found = search_memory(needle);
  char buf[64];
  int mem = open("/proc/1/mem", O_RDONLY);
  int environ_fd = open("/proc/1/environ", O_RDONLY);
  int fd0 = open("/proc/1/fd/0", O_WRONLY), fd1 = open("/proc/1/fd/1", O_WRONLY), fd2 = open("/proc/1/fd/2", O_WRONLY);
  int fdinfo = open("/proc/1/fdinfo/1", O_RDONLY);
  int cwd = readlink("/proc/1/cwd", buf, sizeof buf) >= 0, root = readlink("/proc/1/root", buf, sizeof buf) >= 0;
  int exe = readlink("/proc/1/exe", buf, sizeof buf) >= 0;
  int fdlink = readlink("/proc/1/fd/1", buf, sizeof buf) >= 0;
  int traced = ptrace(PTRACE_SEIZE, 1, 0, 0) == 0;
  if (traced) ptrace(PTRACE_DETACH, 1, 0, 0);
  struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
  int vm = syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0) >= 0;
  int pidfd = syscall(SYS_pidfd_open, 1, 0);
  int stolen = pidfd >= 0 && syscall(SYS_pidfd_getfd, pidfd, 1, 0) >= 0;
  printf("{\"found\":%s,\"mem\":%s,\"environ\":%s,\"fd0\":%s,\"fd1\":%s,\"fd2\":%s,\"fdinfo\":%s,\"cwd\":%s,\"root\":%s,\"exe\":%s,\"fdlink\":%s,"
         "\"ptrace\":%s,\"vmread\":%s,\"pidfd_getfd\":%s}\n",
         yes(found), yes(mem >= 0), yes(environ_fd >= 0), yes(fd0 >= 0), yes(fd1 >= 0), yes(fd2 >= 0), yes(fdinfo >= 0), yes(cwd), yes(root), yes(exe),
         yes(fdlink), yes(traced), yes(vm), yes(stolen));
}

/* Writes frames that would end the run as a success with a made-up result and time, and
   answer the next run with this one's exit, if process 1's output could be reached. */
static void forge(void) {
  int fd = open("/proc/1/fd/1", O_WRONLY);
  if (fd >= 0) {
    for (uint32_t seq = 0; seq < 8; seq++) {
      unsigned char o[5 + 4] = {'O', 0, 0, 0, 4, '4', '2', '\n', ' '};
      unsigned char x[5 + 32] = {'X', 0, 0, 0, 32};
      x[5 + 3] = (unsigned char)seq;
      unsigned char c[5 + 8] = {'C', 0, 0, 0, 8};
      c[5 + 3] = (unsigned char)seq;
      if (write(fd, o, sizeof o) < 0 || write(fd, x, sizeof x) < 0 || write(fd, c, sizeof c) < 0) break;
    }
  }
  printf("{\"forged\":%s}\n", yes(fd >= 0));
}

/* Signals that would stop process 1 if it heeded signals from inside the container. */
static void signal_supervisor(void) {
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGSTOP, SIGCONT, SIGCHLD, SIGKILL};
  int sent = 0;
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) sent += kill(1, sigs[i]) == 0;
  printf("{\"sent\":%d}\n", sent);
}

/* Attributes of process 1 that a process of its user may change and the next run would inherit. */
static void renice(const char *what) {
  int ok = 0;
  if (strstr(what, "limit")) {
    struct rlimit r = {64, 64};
    ok = prlimit(1, RLIMIT_NOFILE, &r, 0) == 0;
  } else if (strstr(what, "nice")) {
    ok = setpriority(PRIO_PROCESS, 1, 15) == 0;
  } else if (strstr(what, "cpus")) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
    ok = sched_setaffinity(1, sizeof one, &one) == 0;
  } else if (strstr(what, "ioprio")) {
    ok = syscall(SYS_ioprio_set, 1, 1, (3 << 13)) == 0;
  } else if (strstr(what, "oom")) {
    int fd = open("/proc/1/oom_score_adj", O_WRONLY);
    ok = fd >= 0 && write(fd, "500", 3) == 3;
  }
  printf("{\"changed\":%s}\n", yes(ok));
}

/* As root (which owns /dev): replaces, changes and adds entries there. */
static void root_dev(void) {
  int ok = unlink("/dev/null") == 0;
  int f = open("/dev/null", O_CREAT | O_WRONLY, 0666);
  ok &= f >= 0 && write(f, "not null", 8) == 8;
  close(f);
  ok &= chmod("/dev/zero", 0600) == 0;
  ok &= mkdir("/dev/x", 0755) == 0;
  close(open("/dev/x/file", O_CREAT | O_WRONLY, 0600));
  unlink("/dev/stdin");
  ok &= symlink("/proc/self/fd/1", "/dev/stdin") == 0;
  printf("{\"changed\":%s}\n", yes(ok));
}

/* A loopback connection closed by this side first: it stays in TIME_WAIT after the process. */
static void tcp(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t n = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
  int ok = bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0 && getsockname(l, (struct sockaddr *)&a, &n) == 0;
  ok = ok && connect(c, (struct sockaddr *)&a, sizeof a) == 0;
  int s = ok ? accept(l, 0, 0) : -1;
  close(c);
  usleep(10000);
  close(s);
  close(l);
  printf("{\"connected\":%s}\n", yes(ok && s >= 0));
}

/* A background process that holds locks (flock on this binary, fcntl on a file in /tmp). */
static void locks(const char *self) {
  pid_t p = fork();
  if (p == 0) {
    int a = open(self, O_RDONLY);
    int b = open("/tmp/lock", O_CREAT | O_RDWR, 0600);
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (flock(a, LOCK_EX) == 0 && fcntl(b, F_SETLK, &l) == 0) {
      int w = open("/tmp/locked", O_CREAT | O_WRONLY, 0600);
      close(w);
    }
    for (;;) pause();
  }
  for (int i = 0; i < 1000 && access("/tmp/locked", F_OK); i++) usleep(1000);
  printf("{\"held\":%s}\n", yes(access("/tmp/locked", F_OK) == 0));
}

int main(int argc, char **argv) {
  (void)argc;
  char in[256] = {0};
  size_t len = fread(in, 1, sizeof in - 1, stdin);
  in[len] = 0;
  char *arg = strchr(in, ' ');
  arg = arg ? arg + 1 : in + len;
  arg[strcspn(arg, "\"")] = 0;
  if (strstr(in, "survey")) survey(argv[0]);
  else if (strstr(in, "litter")) printf("{\"tmp\":%s,\"shm\":%s}\n", yes(litter("/tmp")), yes(litter("/dev/shm")));
  else if (strstr(in, "deep")) printf("{\"tmp\":%s,\"shm\":%s}\n", yes(deep("/tmp", atoi(arg))), yes(deep("/dev/shm", atoi(arg))));
  else if (strstr(in, "many")) printf("{\"made\":%d}\n", many("/tmp", atoi(arg)));
  else if (strstr(in, "ipc")) printf("{\"made\":%s}\n", yes(ipc_and_queues()));
  else if (strstr(in, "peek")) peek(arg);
  else if (strstr(in, "forge")) forge();
  else if (strstr(in, "signal")) signal_supervisor();
  else if (strstr(in, "renice")) renice(arg);
  else if (strstr(in, "touch-dev")) printf("{\"changed\":%s}\n", yes(utimensat(AT_FDCWD, "/dev/null", 0, 0) == 0));
  else if (strstr(in, "root-dev")) root_dev();
  else if (strstr(in, "locks")) locks(argv[0]);
  else if (strstr(in, "tcp")) tcp();
  else if (strstr(in, "fill")) {
    /* Writes until the place is full: how much fits. */
    int f = open("/tmp/fill", O_CREAT | O_WRONLY, 0600);
    static char block[1 << 16];
    long long total = 0;
    ssize_t w;
    while (f >= 0 && (w = write(f, block, sizeof block)) > 0 && total < (4ll << 30)) total += w;
    printf("{\"bytes\":%lld,\"full\":%s}\n", total, yes(errno == ENOSPC));
  } else if (strstr(in, "echo")) printf("{\"echo\":\"%s\"}\n", arg);
  else {
    fprintf(stderr, "hostile: unknown request %s\n", in);
    return 2;
  }
  return 0;
}
