/* The memory the hook runtime (hook_runtime.c, run inside the target) shares with the debugger:
 * one area per traced process, a shared mapping both sides see. C, so the freestanding runtime
 * and the C++ library read the same layout.
 *
 *   ps_hook_area                         header: geometry, overflow counters
 *   ps_hook_function[functions]          per hooked function: calls, inclusive ticks, mode
 *   ps_hook_thread[threads]              per thread: its shadow stack of open hooked frames,
 *                                        and (when records are on) its ring of records
 *
 * A thread finds its slot by the thread pointer (fs:0, the ABI's TCB self pointer), hashed and
 * probed; it claims a free slot with a compare-and-swap. Each ring has one writer (its thread)
 * and one reader (the debugger): no locks. */
#ifndef PROCSCOPE_HOOK_LAYOUT_H
#define PROCSCOPE_HOOK_LAYOUT_H

#include <stdint.h>

#define PS_HOOK_MAGIC 0x31686b6f6f685350ull /* "PShookh1" */

/* ps_hook_function.mode */
#define PS_HOOK_COUNT 0u         /* calls only */
#define PS_HOOK_TIME 1u          /* a frame per call: inclusive ticks at its return */
#define PS_HOOK_RECORD 2u        /* entry and return records in the thread's ring */
#define PS_HOOK_STOP_ENTRY 4u    /* stop in the debugger at entry (callbacks, replace) */
#define PS_HOOK_STOP_RETURN 8u   /* stop in the debugger at its return */
#define PS_HOOK_TARGET 16u       /* the persistent loop's target function (ps_hook_loop) */
#define PS_HOOK_NEEDS_FRAME (PS_HOOK_TIME | PS_HOOK_RECORD | PS_HOOK_STOP_RETURN | PS_HOOK_TARGET)

/* ps_hook_record.kind */
#define PS_RECORD_ENTRY 1u   /* values: the six argument registers */
#define PS_RECORD_RETURN 2u  /* values[0..1]: rax, rdx */
#define PS_RECORD_UNWOUND 3u /* the frame ended without a return (longjmp, exception, a return
                                the runtime did not see); no values */
#define PS_RECORD_STRING 4u  /* text of argument `arg` of the entry record before it */

/* Stop codes: what the runtime returns to its glue; nonzero makes the thread stop (int3). */
#define PS_STOP_ENTRY 1ull
#define PS_STOP_RETURN 2ull
#define PS_STOP_CODE(kind, function) (((uint64_t)(kind) << 32) | (uint32_t)(function))

typedef struct ps_hook_function {
    uint64_t calls;    /* lock-added at every entry */
    uint64_t ticks;    /* rdtsc ticks, inclusive, added at every return seen */
    uint64_t unwound;  /* frames that ended without a return the runtime saw */
    uint32_t mode;     /* PS_HOOK_* */
    uint32_t strings;  /* bit k: argument k is a C string to copy into the record stream */
} ps_hook_function;

typedef struct ps_hook_frame {
    uint64_t rsp;      /* the stack pointer at entry (where the return address is) */
    uint64_t ticks;    /* rdtsc at entry */
    uint32_t function;
    uint32_t unused;
    uint64_t return_address; /* at rsp at entry: a ret at the same rsp that pops another
                                address is not this frame's return (it ended unseen) */
} ps_hook_frame;

typedef struct ps_hook_record {
    uint32_t kind;     /* PS_RECORD_* */
    uint32_t function; /* for strings: the argument index */
    uint64_t ticks;
    uint64_t values[6];
} ps_hook_record;

typedef struct ps_hook_thread {
    uint64_t key;       /* the thread pointer; 0: free */
    uint64_t tid;       /* the kernel's thread id, taken when the slot is claimed */
    uint64_t depth;     /* frames pushed and not yet closed, since the slot was claimed */
    uint64_t base;      /* frames below it were forgotten: the shadow stack keeps the last
                           `frames` (frame d at d % frames); their ends go unseen */
    uint64_t lost;      /* frames forgotten so (deep recursion) */
    uint64_t head;      /* records written (by the thread) */
    uint64_t tail;      /* records read (by the debugger) */
    uint64_t dropped;   /* records not written: the ring was full */
    /* then ps_hook_frame frames[area.frames], then ps_hook_record ring[area.records] */
} ps_hook_thread;

/* The persistent fuzzing loop (one target function per process). Two counters, futex words
 * in shared memory: the target makes `ready` one more each time it can take a new input (at
 * the target function's first entry and at each of its returns) and waits until `go` reaches
 * it; the fuzzer waits for `ready` to pass `go`, reads the coverage, places the next input and
 * makes `go` equal to `ready`. The debugger also bumps `ready` (with `event` set) when the
 * process crashes or exits, so a waiting fuzzer wakes. */
typedef struct ps_hook_loop {
    uint32_t ready;      /* futex word, written by the target (and the debugger on events) */
    uint32_t go;         /* futex word, written by the fuzzer */
    uint32_t loop;       /* at a return: run the function again with the saved arguments */
    uint32_t announced;  /* the target made `ready` one more at the last return: the next
                            entry only waits */
    uint32_t event;      /* set by the debugger: the process crashed or exited */
    uint32_t active;     /* an iteration is running */
    uint64_t iterations; /* returns of the target function */
    uint64_t body;       /* where a loop goes back to: just after the entry's runtime call */
    uint64_t frame;      /* the stack pointer at the target function's entry */
    uint64_t args[6];    /* the argument registers at that entry */
} ps_hook_loop;

typedef struct ps_hook_area {
    uint64_t magic;
    uint32_t functions;       /* entries of the function table */
    uint32_t threads;         /* thread slots, a power of two */
    uint32_t frames;          /* shadow-stack depth per thread, a power of two */
    uint32_t records;         /* ring records per thread, a power of two, or 0 */
    uint64_t thread_bytes;    /* size of one thread slot */
    uint64_t threads_offset;  /* from the area's start */
    uint64_t no_slot;         /* calls of threads that found no free slot (not timed) */
    uint64_t pad[3];
    ps_hook_loop loop;
    /* then ps_hook_function functions[functions] at offset sizeof(ps_hook_area), then the slots */
} ps_hook_area;

static inline uint64_t ps_hook_area_bytes(uint32_t functions, uint32_t threads, uint32_t frames, uint32_t records) {
    uint64_t thread_bytes = sizeof(ps_hook_thread) + (uint64_t)frames * sizeof(ps_hook_frame) +
                            (uint64_t)records * sizeof(ps_hook_record);
    uint64_t threads_offset = (sizeof(ps_hook_area) + (uint64_t)functions * sizeof(ps_hook_function) + 63) & ~63ull;
    return threads_offset + (uint64_t)threads * thread_bytes;
}

static inline ps_hook_function* ps_hook_functions(ps_hook_area* area) {
    return (ps_hook_function*)(area + 1);
}
static inline ps_hook_thread* ps_hook_thread_at(ps_hook_area* area, uint32_t k) {
    return (ps_hook_thread*)((char*)area + area->threads_offset + (uint64_t)k * area->thread_bytes);
}
static inline ps_hook_frame* ps_hook_frames(ps_hook_thread* t) { return (ps_hook_frame*)(t + 1); }
static inline ps_hook_record* ps_hook_ring(ps_hook_area* area, ps_hook_thread* t) {
    return (ps_hook_record*)(ps_hook_frames(t) + area->frames);
}
/* Where a thread pointer starts probing. */
static inline uint32_t ps_hook_home(const ps_hook_area* area, uint64_t key) {
    return (uint32_t)(((key >> 4) * 0x9E3779B97F4A7C15ull) >> 40) & (area->threads - 1);
}

#endif
