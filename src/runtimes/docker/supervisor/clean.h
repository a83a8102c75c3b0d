/*
 * What a run can leave behind in a kept container, and the proof that it left nothing
 * (clean.c). The supervisor records the container as it starts (as a cold container has it),
 * and after each run restores and compares.
 */
#ifndef NEBULA_CLEAN_H
#define NEBULA_CLEAN_H

#include <stdint.h>

/* Why a container is not clean after a run (the 'C' frame's flags; 0: clean). */
#define DIRTY_PROCESSES 1u  /* a process of the run outlived every kill */
#define DIRTY_PLACES 2u     /* a writable place differs from the record and could not be restored */
#define DIRTY_INHERITED 4u  /* an attribute of process 1 that the next run would inherit was changed */
#define DIRTY_BUDGET 8u     /* the clean-up ran out of time (a huge tree) */
#define DIRTY_UNPROVABLE 16u /* a writable place of a kind the supervisor cannot record */

/* Records every writable place and the attributes of process 1; once, before the first run. */
void clean_record(void);

/* Removes what was added to the writable places, restores what can be restored, and compares
   places and attributes with the record. Returns 0 when the container is as recorded, else
   DIRTY_* flags. Gives up (DIRTY_BUDGET) after `budget_ns` of CLOCK_MONOTONIC time. */
uint32_t clean_after_run(uint64_t budget_ns);

#endif
