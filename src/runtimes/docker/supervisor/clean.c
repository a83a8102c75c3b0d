/*
 * The clean-up after each run in a kept container, and its proof. When the container starts,
 * the supervisor records every writable place (each read-write mount of /proc/self/mountinfo:
 * /dev, /dev/shm, /dev/mqueue, /dev/pts, the private tmpfs of each image volume, ...) as a
 * cold container has it, and the attributes of process 1 that a process of the same user may
 * change from outside and that the next run would inherit (limits, scheduling, CPU affinity,
 * I/O priority, OOM score). After a run it removes what the run added (whatever its kind,
 * name, depth or permissions), gives back the permissions and times of the recorded
 * directories, removes System V IPC objects, then compares everything with the record, and
 * checks that no TCP connection outlived the run. A difference it cannot undo is reported, and
 * the host retires the container.
 */
#define _GNU_SOURCE
#include "clean.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

#define MAX_PLACES 32
/* Entries recorded in all places together (Docker's /dev holds about 20). */
#define MAX_ENTRIES 512
/* Descriptors the removal walk holds at most; deeper directories are moved up first. */
#define MAX_DEPTH 32
#define MAX_EXTRA 4096

/* What is compared of one file. */
struct print {
  dev_t dev, rdev;
  ino_t ino;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  nlink_t nlink;
  off_t size;
  struct timespec atime, mtime, ctime;
  /* A symlink's target, or a directory's extended attributes (names and values). */
  char *extra;
  size_t extra_len;
};

struct entry {
  int place;
  char *path; /* relative to the place's root */
  struct print print;
};

struct place {
  char *path;
  int fd;   /* the root, open for the container's life (-1: a file, compared by path) */
  int tree; /* a directory whose contents are cleared; else one file (a bind-mounted device) */
  int entries;
  struct print root;
};

struct sched_attr_v1 {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
  uint32_t util_min, util_max;
};

/* Attributes of process 1 that a process of its user can change (prlimit, setpriority,
   sched_setattr, sched_setaffinity, ioprio_set, /proc/1/oom_score_adj as root) and that a
   forked run inherits. */
struct inherited {
  struct rlimit limits[RLIMIT_NLIMITS];
  struct sched_attr_v1 sched;
  cpu_set_t cpus;
  long ioprio, slack;
  char oom[24], coredump[24];
};

static struct place places[MAX_PLACES];
static int place_count;
static struct entry entries[MAX_ENTRIES];
static int entry_count;
static uint32_t unprovable;
static struct inherited recorded;
static uint64_t deadline_ns;
static int out_of_time;
static unsigned hoisted;

static uint64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* True once the clean-up's time is over; the clock is read every 64 calls. */
static int late(void) {
  static unsigned calls;
  if (!out_of_time && (++calls & 63) == 0 && monotonic_ns() > deadline_ns) out_of_time = 1;
  return out_of_time;
}

static void read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, size - 1);
  if (n > 0) buf[n] = 0;
  close(fd);
}

static void read_inherited(struct inherited *a) {
  memset(a, 0, sizeof *a);
  for (int i = 0; i < RLIMIT_NLIMITS; i++) getrlimit(i, &a->limits[i]);
  syscall(SYS_sched_getattr, 0, &a->sched, sizeof a->sched, 0);
  sched_getaffinity(0, sizeof a->cpus, &a->cpus);
  a->ioprio = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
  a->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  read_small("/proc/self/oom_score_adj", a->oom, sizeof a->oom);
  read_small("/proc/self/coredump_filter", a->coredump, sizeof a->coredump);
}

static void print_of(const struct stat *s, struct print *p) {
  memset(p, 0, sizeof *p);
  p->dev = s->st_dev;
  p->rdev = s->st_rdev;
  p->ino = s->st_ino;
  p->mode = s->st_mode;
  p->uid = s->st_uid;
  p->gid = s->st_gid;
  p->nlink = s->st_nlink;
  p->size = s->st_size;
  p->atime = s->st_atim;
  p->mtime = s->st_mtim;
  p->ctime = s->st_ctim;
}

/* A directory's extended attributes (POSIX ACLs included) as names and values, into buf. */
static ssize_t xattrs_of(int fd, char *buf, size_t size) {
  char names[MAX_EXTRA];
  ssize_t n = flistxattr(fd, names, sizeof names);
  if (n <= 0) return n < 0 && errno != ENOTSUP ? -1 : 0;
  size_t used = 0;
  for (char *name = names; name < names + n; name += strlen(name) + 1) {
    size_t len = strlen(name) + 1;
    if (used + len > size) return -1;
    memcpy(buf + used, name, len);
    used += len;
    ssize_t v = fgetxattr(fd, name, buf + used, size - used);
    if (v < 0) return -1;
    used += (size_t)v;
  }
  return (ssize_t)used;
}

static int same_time(struct timespec a, struct timespec b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static int same_extra(const struct print *a, const struct print *b) {
  return a->extra_len == b->extra_len && (!a->extra_len || !memcmp(a->extra, b->extra, a->extra_len));
}

/* Whether `now` is the `recorded` file. Directories are compared without their times (entries
   come and go in them); files on another mount only by identity (their own place compares them). */
static int same_print(const struct print *now, const struct print *was, dev_t place_dev) {
  if (now->dev != was->dev || now->ino != was->ino || now->mode != was->mode || now->uid != was->uid || now->gid != was->gid)
    return 0;
  if (now->dev != place_dev) return 1;
  if (now->nlink != was->nlink || now->size != was->size || !same_extra(now, was)) return 0;
  if (S_ISDIR(now->mode)) return 1;
  return now->rdev == was->rdev && same_time(now->mtime, was->mtime) && same_time(now->ctime, was->ctime);
}

static struct entry *find(int place, const char *path) {
  for (int i = 0; i < entry_count; i++)
    if (entries[i].place == place && !strcmp(entries[i].path, path)) return &entries[i];
  return 0;
}

static int join(char *out, const char *rel, const char *name) {
  int n = rel ? snprintf(out, PATH_MAX, "%s/%s", rel, name) : snprintf(out, PATH_MAX, "%s", name);
  return n > 0 && n < PATH_MAX;
}

/* Records (verify 0) or compares (verify 1) everything under a directory of a place, without
   entering other mounts. Returns the entries met, or -1 on a difference or a full record. */
static int walk(int place, int fd, const char *rel, int depth, int verify) {
  int at = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = at < 0 ? 0 : fdopendir(at);
  if (!d) return -1;
  int met = 0;
  struct dirent *e;
  char path[PATH_MAX], extra[MAX_EXTRA];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat s;
    struct print p;
    int sub = -1;
    if (!join(path, rel, e->d_name) || fstatat(fd, e->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0) goto differs;
    print_of(&s, &p);
    if (S_ISDIR(s.st_mode) && s.st_dev == places[place].root.dev) {
      sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      ssize_t n = sub < 0 ? -1 : xattrs_of(sub, extra, sizeof extra);
      if (n < 0) goto differs;
      p.extra_len = (size_t)n;
    } else if (S_ISLNK(s.st_mode) && s.st_dev == places[place].root.dev) {
      ssize_t n = readlinkat(fd, e->d_name, extra, sizeof extra);
      if (n < 0 || n == sizeof extra) goto differs;
      p.extra_len = (size_t)n;
    }
    p.extra = extra;
    if (verify) {
      struct entry *was = find(place, path);
      if (!was || !same_print(&p, &was->print, places[place].root.dev)) goto differs;
    } else {
      if (entry_count == MAX_ENTRIES) goto differs;
      struct entry *x = &entries[entry_count];
      x->place = place;
      x->path = strdup(path);
      x->print = p;
      x->print.extra = p.extra_len ? malloc(p.extra_len) : 0;
      if (!x->path || (p.extra_len && !x->print.extra)) goto differs;
      if (p.extra_len) memcpy(x->print.extra, extra, p.extra_len);
      entry_count++;
    }
    met++;
    if (sub >= 0) {
      int below = depth < MAX_DEPTH ? walk(place, sub, path, depth + 1, verify) : -1;
      close(sub);
      if (below < 0) goto gone;
      met += below;
    }
    continue;
  differs:
    if (sub >= 0) close(sub);
  gone:
    closedir(d);
    return -1;
  }
  closedir(d);
  return met;
}

/* The print of a place's root, with its extended attributes in buf. */
static int root_print(int fd, struct print *p, char *buf) {
  struct stat s;
  if (fstat(fd, &s) < 0) return -1;
  print_of(&s, p);
  ssize_t n = xattrs_of(fd, buf, MAX_EXTRA);
  if (n < 0) return -1;
  p->extra = buf;
  p->extra_len = (size_t)n;
  return 0;
}

/* Mount points in /proc/self/mountinfo escape space, tab, newline and backslash as \ooo. */
static void unescape(char *s) {
  char *o = s;
  for (char *i = s; *i; i++)
    if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' && i[3] >= '0' && i[3] <= '7') {
      *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
      i += 3;
    } else {
      *o++ = *i;
    }
  *o = 0;
}

static void record_place(const char *path, const char *type) {
  struct stat s;
  if (lstat(path, &s) < 0 || place_count == MAX_PLACES) {
    unprovable = DIRTY_UNPROVABLE;
    return;
  }
  struct place *p = &places[place_count];
  p->path = strdup(path);
  p->fd = -1;
  if (!S_ISDIR(s.st_mode)) {
    /* A bind-mounted file (Docker masks /proc/keys and others with /dev/null). */
    print_of(&s, &p->root);
    place_count++;
    return;
  }
  /* Directories of these kinds hold only what runs put there, and can be emptied; any other
     read-write directory mount (a host volume) cannot be proven clean. */
  if (strcmp(type, "tmpfs") && strcmp(type, "mqueue") && strcmp(type, "devpts")) {
    unprovable = DIRTY_UNPROVABLE;
    return;
  }
  char extra[MAX_EXTRA];
  p->fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  p->tree = 1;
  if (p->fd < 0 || root_print(p->fd, &p->root, extra) < 0) {
    unprovable = DIRTY_UNPROVABLE;
    return;
  }
  p->root.extra = p->root.extra_len ? malloc(p->root.extra_len) : 0;
  if (p->root.extra_len) memcpy(p->root.extra, extra, p->root.extra_len);
  place_count++;
  int first = entry_count;
  int met = walk(place_count - 1, p->fd, 0, 0, 0);
  if (met < 0) unprovable = DIRTY_UNPROVABLE;
  p->entries = entry_count - first;
}

void clean_record(void) {
  read_inherited(&recorded);
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) {
    unprovable = DIRTY_UNPROVABLE;
    return;
  }
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    /* id parent major:minor root mount-point options [optional...] - type source super-options */
    char *field[6], *save = 0, *sep = strstr(line, " - ");
    int n = 0;
    for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(0, " ", &save)) field[n++] = t;
    if (n < 6 || !sep) continue;
    char type[64] = {0};
    sscanf(sep + 3, "%63s", type);
    /* Only read-write mounts can hold what a run leaves; /proc's writable files belong to processes. */
    if (strncmp(field[5], "rw", 2) || (field[5][2] && field[5][2] != ',') || !strcmp(type, "proc")) continue;
    unescape(field[4]);
    record_place(field[4], type);
  }
  fclose(f);
}

/* Moves directory `name` of `dir` up to the place's root under a fresh name, so that the walk
   holds at most MAX_DEPTH descriptors; the next pass over the root removes it. */
static int hoist(int dir, const char *name, int top) {
  char fresh[64];
  for (int i = 0; i < 1000; i++) {
    snprintf(fresh, sizeof fresh, ".nebula-faas-%u", hoisted++);
    if (syscall(SYS_renameat2, dir, name, top, fresh, RENAME_NOREPLACE) == 0) return 1;
    if (errno != EEXIST) return 0;
  }
  return 0;
}

static int empty_dir(int fd, int top, int depth);

/* Removes `name` of `dir`, whatever it is (a file, a FIFO, a socket, a device, a link, a
   directory with all it holds). A run made it, so this user owns it: permissions the run took
   away (chmod 000, 500) are given back first. Returns whether something was moved up. */
static int remove_entry(int dir, const char *name, int top, int depth) {
  if (unlinkat(dir, name, 0) == 0 || errno != EISDIR || unlinkat(dir, name, AT_REMOVEDIR) == 0) return 0;
  fchmodat(dir, name, 0700, 0);
  if (depth >= MAX_DEPTH) return hoist(dir, name, top);
  int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  int moved = empty_dir(fd, top, depth + 1);
  close(fd);
  unlinkat(dir, name, AT_REMOVEDIR);
  return moved;
}

static int empty_dir(int fd, int top, int depth) {
  int at = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = at < 0 ? 0 : fdopendir(at);
  if (!d) return 0;
  int moved = 0;
  struct dirent *e;
  while (!late() && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) moved |= remove_entry(fd, e->d_name, top, depth);
  closedir(d);
  return moved;
}

/* Gives a recorded directory back its permissions and times (only its owner can). */
static void restore_dir(int fd, const struct print *was) {
  struct stat s;
  if (fstat(fd, &s) < 0) return;
  if ((s.st_mode & 07777) != (was->mode & 07777)) fchmod(fd, was->mode & 07777);
  if (!same_time(s.st_atim, was->atime) || !same_time(s.st_mtim, was->mtime)) {
    struct timespec t[2] = {was->atime, was->mtime};
    futimens(fd, t);
  }
}

/* Removes, under a recorded directory, every entry that is not the recorded one; enters
   recorded directories. Returns whether something was moved up to the root. */
static int clear_dir(int place, int fd, const char *rel, int depth) {
  struct place *p = &places[place];
  int at = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = at < 0 ? 0 : fdopendir(at);
  if (!d) return 0;
  int moved = 0;
  struct dirent *e;
  char path[PATH_MAX];
  while (!late() && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct entry *was = p->entries && join(path, rel, e->d_name) ? find(place, path) : 0;
    struct stat s;
    if (was && fstatat(fd, e->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 && s.st_ino == was->print.ino && s.st_dev == was->print.dev) {
      if (!S_ISDIR(s.st_mode) || s.st_dev != p->root.dev || depth >= MAX_DEPTH) continue;
      int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;
      restore_dir(sub, &was->print);
      moved |= clear_dir(place, sub, path, depth + 1);
      close(sub);
      continue;
    }
    moved |= remove_entry(fd, e->d_name, p->fd, depth);
  }
  closedir(d);
  return moved;
}

static int verify_place(int place) {
  struct place *p = &places[place];
  struct stat s;
  struct print now;
  char extra[MAX_EXTRA];
  if (!p->tree) {
    if (lstat(p->path, &s) < 0) return 0;
    print_of(&s, &now);
    return same_print(&now, &p->root, p->root.dev);
  }
  if (root_print(p->fd, &now, extra) < 0 || !same_print(&now, &p->root, p->root.dev)) return 0;
  return walk(place, p->fd, 0, 0, 1) == p->entries;
}

/* System V IPC objects live as long as the container's IPC namespace: removes them all. */
static int clear_ipc(const char *path, int kind) {
  FILE *f = fopen(path, "re");
  if (!f) return 1;
  char line[512];
  long key, id;
  int left = 0;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%ld %ld", &key, &id) != 2) continue;
    int r = kind == 0 ? shmctl((int)id, IPC_RMID, 0) : kind == 1 ? semctl((int)id, 0, IPC_RMID) : msgctl((int)id, IPC_RMID, 0);
    if (r < 0) left = 1;
  }
  fclose(f);
  return !left;
}

/* TCP connections outlive their processes (TIME_WAIT, for a minute) and their ports are for
   everyone in the container's network namespace to see: none may be left. The counts of this
   namespace's sockets come from /proc/net/sockstat (constant time; listing /proc/net/tcp walks
   the whole host's table, milliseconds). */
static int no_connections(void) {
  long inuse = -1, tw = -1, inuse6 = 0;
  char line[256];
  FILE *f = fopen("/proc/net/sockstat", "re");
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "TCP: inuse %ld orphan %*d tw %ld", &inuse, &tw) == 2) break;
  if (f) fclose(f);
  /* Without IPv6 there is no sockstat6, and no IPv6 socket. */
  f = fopen("/proc/net/sockstat6", "re");
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "TCP6: inuse %ld", &inuse6) == 1) break;
  if (f) fclose(f);
  return inuse == 0 && tw == 0 && inuse6 == 0;
}

uint32_t clean_after_run(uint64_t budget_ns) {
  uint32_t dirty = unprovable;
  deadline_ns = monotonic_ns() + budget_ns;
  out_of_time = 0;
  int ipc = clear_ipc("/proc/sysvipc/shm", 0) & clear_ipc("/proc/sysvipc/sem", 1) & clear_ipc("/proc/sysvipc/msg", 2);
  for (int i = 0; i < place_count; i++) {
    if (!places[i].tree) continue;
    restore_dir(places[i].fd, &places[i].root);
    /* Directories moved up are removed by the next pass. */
    while (clear_dir(i, places[i].fd, 0, 0) && !late()) {
    }
  }
  if (out_of_time) return dirty | DIRTY_BUDGET;
  if (!ipc || !no_connections()) dirty |= DIRTY_PLACES;
  for (int i = 0; i < place_count; i++)
    if (!verify_place(i)) dirty |= DIRTY_PLACES;
  struct inherited now;
  read_inherited(&now);
  if (memcmp(&now, &recorded, sizeof now)) dirty |= DIRTY_INHERITED;
  return dirty;
}
