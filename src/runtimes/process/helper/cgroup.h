/*
 * The cgroups of one run of nebula-exec: made while the helper is parked, joined by the function
 * before execve, swept and read at its end, then removed. Up to three, one per hierarchy:
 *   v2        a cgroup v2 directory: cgroup.kill, cpu.stat, and memory.max when it has the memory controller
 *   memory    a cgroup v1 memory directory (a v1/v2 hybrid, or v1 alone): memory.limit_in_bytes
 *   cpuacct   a cgroup v1 cpuacct directory: the tree's CPU time when there is no v2 one
 * Each is <parent>/nebula-exec-<helper pid>-<ns>, flock()ed by its helper for as long as it lives, so
 * `nebula-exec --reap <parent>...` can tell the directories of dead helpers and remove them.
 */
#ifndef NEBULA_CGROUP_H
#define NEBULA_CGROUP_H

/* Adds a parent "<kind>:<directory>"; returns -1 for a spec it does not understand. */
int cg_add(const char *spec);
/* The memory limit of the tree, bytes (0: none). */
void cg_set_memory_max(unsigned long long bytes);
/* Makes the cgroups named by `tag` and sets the limit; on failure removes what it made (see cg_state). */
void cg_create(const char *tag);
/* True when the function is to join cgroups. */
int cg_active(void);
/* "-": none asked; "ok"; or "<step>:<errno>" of the step that failed (the run then has no cgroup). */
const char *cg_state(void);
/* The v2 cgroup to clone the function into (CLONE_INTO_CGROUP), or -1. */
int cg_clone_fd(void);
/* In the function's process, before execve: moves it into the v1 cgroups, and the v2 one when
 * `v2_too` (it was not cloned into it). Returns 0 or an errno. */
int cg_join(int v2_too);
/* Records that joining failed: the run is reported without cgroup figures. */
void cg_join_failed(int err);
/* A descriptor that becomes readable when the tree hits its limit (cgroup v1 OOM notification), or -1. */
int cg_oom_fd(void);
/* The limit was hit: kills the whole tree now. */
void cg_oom(void);
/* Kills the tree through cgroup.kill, when there is one (async-signal-safe). */
void cg_kill_async(void);
/* Kills every process left in the tree and waits until it is empty (2 s at most). */
void cg_sweep(void);

struct cg_usage {
  long long user_us, system_us; /* CPU time of the whole tree, or -1 */
  long long peak_bytes;         /* peak memory charged to the tree, or -1 */
  long long oom_kills;          /* processes the kernel killed at the limit, or -1 */
};
void cg_read(struct cg_usage *u);
/* Removes the cgroups (async-signal-safe). */
void cg_remove(void);
/* --reap mode: removes the cgroups of helpers that are gone, killing what is left in them. */
int cg_reap(int n, char **parents);

#endif
