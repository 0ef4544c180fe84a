/* The hook runtime: code the engine copies into each instrumented module's code cache and the
 * translated code calls (through a glue that saves the registers) at a hooked function's entry
 * and at every translated `ret`. It counts calls, keeps each thread's shadow stack of hooked
 * frames, adds inclusive time and writes argument / return records into the thread's ring.
 *
 * Freestanding: built without the C library, the sanitizers or SSE (-mgeneral-regs-only), and
 * checked at build time to need no relocation, so its bytes run wherever they are copied. The
 * same file is linked natively into the tests, which call it on an area of their own.
 *
 * Returns are seen by the stack pointer, not by changing return addresses (they stay the
 * program's: unwinding, backtraces and a detach need nothing undone): a frame is closed by the
 * first translated `ret` at or above the stack pointer it was entered with; a `ret` exactly at
 * it is its return, one above it (longjmp, an exception) ends it as unwound, and so does a new
 * hooked entry at or above it. */
#include "hook_layout.h"

#define PS_EXPORT __attribute__((visibility("hidden"), used))
#define PS_INLINE static inline __attribute__((always_inline))

PS_INLINE uint64_t ps_ticks(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

PS_INLINE uint64_t ps_thread_pointer(void) {
    uint64_t tp;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(tp));
    return tp;
}

PS_INLINE long ps_syscall0(long n) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n) : "rcx", "r11", "memory");
    return ret;
}

PS_INLINE long ps_syscall6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}

#define PS_FUTEX_WAIT 0
#define PS_FUTEX_WAKE 1

PS_INLINE void ps_futex(uint32_t* word, int op, uint32_t value) {
    ps_syscall6(202 /* futex */, (long)word, op, (long)value, 0, 0, 0);
}

/* The loop's side of the handshake: one more readiness, then wait for the fuzzer's go. */
PS_INLINE void ps_loop_announce(ps_hook_loop* loop) {
    __atomic_add_fetch(&loop->ready, 1, __ATOMIC_ACQ_REL);
    ps_futex(&loop->ready, PS_FUTEX_WAKE, 0x7fffffff);
}

static void ps_loop_wait(ps_hook_loop* loop) {
    for (;;) {
        uint32_t go = __atomic_load_n(&loop->go, __ATOMIC_ACQUIRE);
        if ((int32_t)(go - __atomic_load_n(&loop->ready, __ATOMIC_ACQUIRE)) >= 0) return;
        /* A short spin first: the fuzzer often answers within microseconds (short: on a
         * machine with few cores the spin takes the fuzzer's time). */
        int answered = 0;
        for (int spin = 0; spin < 200; ++spin) {
            __asm__ volatile("pause");
            if (__atomic_load_n(&loop->go, __ATOMIC_ACQUIRE) != go) {
                answered = 1;
                break;
            }
        }
        if (!answered) ps_futex(&loop->go, PS_FUTEX_WAIT, go);
    }
}

/* The calling thread's slot; claims one when `claim`. 0 when there is none. */
static ps_hook_thread* ps_thread_slot(ps_hook_area* area, uint64_t key, int claim) {
    uint32_t mask = area->threads - 1;
    uint32_t k = ps_hook_home(area, key);
    for (uint32_t probe = 0; probe <= mask; ++probe, k = (k + 1) & mask) {
        ps_hook_thread* t = ps_hook_thread_at(area, k);
        uint64_t seen = __atomic_load_n(&t->key, __ATOMIC_RELAXED);
        if (seen == key) return t;
        if (seen == 0) {
            if (!claim) return 0;
            uint64_t expected = 0;
            if (__atomic_compare_exchange_n(&t->key, &expected, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                t->tid = (uint64_t)ps_syscall0(186 /* gettid */);
                return t;
            }
            if (expected == key) return t;
        }
    }
    return 0;
}

/* A record slot of the thread's ring, or 0 when records are off or the ring is full. */
static ps_hook_record* ps_record_slot(ps_hook_area* area, ps_hook_thread* t) {
    if (area->records == 0) return 0;
    uint64_t head = t->head;
    if (head - __atomic_load_n(&t->tail, __ATOMIC_ACQUIRE) >= area->records) {
        t->dropped++;
        return 0;
    }
    return ps_hook_ring(area, t) + (head & (area->records - 1));
}

PS_INLINE void ps_record_done(ps_hook_thread* t) { __atomic_store_n(&t->head, t->head + 1, __ATOMIC_RELEASE); }

/* Copies the C string at `address` into string records, through process_vm_readv on the
 * process itself: a bad pointer gives an error, not a fault. */
static void ps_record_string(ps_hook_area* area, ps_hook_thread* t, uint32_t arg, uint64_t address) {
    enum { room = sizeof(((ps_hook_record*)0)->values) - 1, max_records = 4 };
    long pid = ps_syscall0(39 /* getpid */);
    for (int n = 0; n < max_records; ++n) {
        ps_hook_record* r = ps_record_slot(area, t);
        if (!r) return;
        r->kind = PS_RECORD_STRING;
        r->function = arg;
        r->ticks = 0;
        char* text = (char*)r->values;
        struct {
            uint64_t base, length;
        } local = {(uint64_t)text, room}, remote = {address, room};
        /* Never across a page end into what may be unmapped: read up to it first. */
        uint64_t to_page_end = 4096 - (address & 4095);
        if (to_page_end < room) remote.length = local.length = to_page_end;
        long got = ps_syscall6(310 /* process_vm_readv */, pid, (long)&local, 1, (long)&remote, 1, 0);
        if (got <= 0) {
            if (n == 0) r->ticks = 1; /* unreadable */
            text[0] = 0;
            ps_record_done(t);
            return;
        }
        long end = 0;
        while (end < got && text[end] != 0) ++end;
        text[end < room ? end : room] = 0;
        r->ticks = (uint64_t)end; /* bytes of text in this record */
        ps_record_done(t);
        if (end < got) return;
        address += (uint64_t)got;
    }
}

PS_INLINE ps_hook_frame* ps_frame(ps_hook_area* area, ps_hook_thread* t, uint64_t d) {
    return ps_hook_frames(t) + (d & (area->frames - 1));
}

/* Ends the top frame without a return the runtime saw. */
static void ps_end_unseen(ps_hook_area* area, ps_hook_thread* t, uint64_t now) {
    ps_hook_frame* f = ps_frame(area, t, t->depth - 1);
    ps_hook_function* fn = ps_hook_functions(area) + f->function;
    if (fn->mode & PS_HOOK_TARGET) {
        /* The iteration ended by a longjmp or an exception: over, without a loop. */
        area->loop.active = 0;
        area->loop.iterations++;
        area->loop.announced = 1;
        ps_loop_announce(&area->loop);
    }
    __atomic_add_fetch(&fn->ticks, now - f->ticks, __ATOMIC_RELAXED);
    __atomic_add_fetch(&fn->unwound, 1, __ATOMIC_RELAXED);
    if (fn->mode & PS_HOOK_RECORD) {
        ps_hook_record* r = ps_record_slot(area, t);
        if (r) {
            r->kind = PS_RECORD_UNWOUND;
            r->function = f->function;
            r->ticks = now;
            ps_record_done(t);
        }
    }
    t->depth--;
}

/* Ends the frames a thread left without a return the runtime saw: those at or below `rsp`. */
static void ps_unwind_below(ps_hook_area* area, ps_hook_thread* t, uint64_t rsp, uint64_t now) {
    /* At most the kept frames: bounded even if the slot were damaged. */
    for (uint32_t n = 0; n < area->frames && t->depth > t->base && ps_frame(area, t, t->depth - 1)->rsp <= rsp; ++n)
        ps_end_unseen(area, t, now);
}

/* `regs`: the glue's saved registers, r11 first (r11 r10 r9 r8 rdi rsi rdx rcx rax). */
enum { reg_r11, reg_r10, reg_r9, reg_r8, reg_rdi, reg_rsi, reg_rdx, reg_rcx, reg_rax, reg_return };
/* reg_return: where the glue returns to (just after the translated code's call of it). */

/* The six argument registers (SysV order) out of the saved registers, and back. */
PS_INLINE void ps_arguments_of(const uint64_t* regs, uint64_t out[6]) {
    out[0] = regs[reg_rdi];
    out[1] = regs[reg_rsi];
    out[2] = regs[reg_rdx];
    out[3] = regs[reg_rcx];
    out[4] = regs[reg_r8];
    out[5] = regs[reg_r9];
}
PS_INLINE void ps_set_arguments(uint64_t* regs, const uint64_t in[6]) {
    regs[reg_rdi] = in[0];
    regs[reg_rsi] = in[1];
    regs[reg_rdx] = in[2];
    regs[reg_rcx] = in[3];
    regs[reg_r8] = in[4];
    regs[reg_r9] = in[5];
}

/* At the translated entry of hooked function `index`; `rsp` is the program's stack pointer there. */
/* `salt` tells the processes that share an area apart (a followed fork child has its own, in its
 * copy of the glue): it is part of every thread key. */
PS_INLINE uint64_t ps_thread_key(uint64_t salt) { return ps_thread_pointer() ^ (salt << 48); }

PS_EXPORT uint64_t ps_hook_entry(ps_hook_area* area, uint64_t index, uint64_t* regs, uint64_t rsp, uint64_t salt) {
    if (index >= area->functions) return 0;
    ps_hook_function* fn = ps_hook_functions(area) + index;
    __atomic_add_fetch(&fn->calls, 1, __ATOMIC_RELAXED);
    uint32_t mode = fn->mode;
    if (!(mode & PS_HOOK_NEEDS_FRAME)) return (mode & PS_HOOK_STOP_ENTRY) ? PS_STOP_CODE(PS_STOP_ENTRY, index) : 0;
    ps_hook_thread* t = ps_thread_slot(area, ps_thread_key(salt), 1);
    if (!t) {
        __atomic_add_fetch(&area->no_slot, 1, __ATOMIC_RELAXED);
        return (mode & PS_HOOK_STOP_ENTRY) ? PS_STOP_CODE(PS_STOP_ENTRY, index) : 0;
    }
    if (mode & PS_HOOK_TARGET) {
        ps_hook_loop* loop = &area->loop;
        if (!__atomic_load_n(&loop->announced, __ATOMIC_RELAXED)) ps_loop_announce(loop);
        loop->announced = 0;
        ps_loop_wait(loop);
        loop->frame = rsp;
        loop->body = regs[reg_return];
        ps_arguments_of(regs, loop->args);
        loop->active = 1;
    }
    uint64_t now = ps_ticks();
    /* A frame at or below this one's stack pointer has ended unseen (longjmp, an exception,
     * a return through code that is not translated). */
    ps_unwind_below(area, t, rsp, now);
    uint64_t d = t->depth;
    if (d - t->base == area->frames) {
        /* Full: the oldest frame is forgotten (its end will not be seen). */
        t->base++;
        t->lost++;
    }
    ps_hook_frame* f = ps_frame(area, t, d);
    f->rsp = rsp;
    f->function = (uint32_t)index;
    f->ticks = now;
    f->return_address = *(const uint64_t*)rsp;
    t->depth = d + 1;
    if (mode & PS_HOOK_RECORD) {
        ps_hook_record* r = ps_record_slot(area, t);
        if (r) {
            r->kind = PS_RECORD_ENTRY;
            r->function = (uint32_t)index;
            r->ticks = now;
            ps_arguments_of(regs, r->values);
            ps_record_done(t);
            for (uint32_t k = 0; k < 6; ++k)
                if (fn->strings & (1u << k)) ps_record_string(area, t, k, r->values[k]);
        }
    }
    return (mode & PS_HOOK_STOP_ENTRY) ? PS_STOP_CODE(PS_STOP_ENTRY, index) : 0;
}

/* At a translated `ret`, before it; `rsp` points at the return address it is about to pop. */
PS_EXPORT uint64_t ps_hook_return(ps_hook_area* area, uint64_t unused, uint64_t* regs, uint64_t rsp, uint64_t salt) {
    (void)unused;
    ps_hook_thread* t = ps_thread_slot(area, ps_thread_key(salt), 0);
    if (!t || t->depth == t->base) return 0;
    ps_hook_frame* top = ps_frame(area, t, t->depth - 1);
    if (top->rsp > rsp) return 0; /* an inner function returning */
    uint64_t now = ps_ticks();
    if (top->rsp < rsp) {
        ps_unwind_below(area, t, rsp - 1, now);
        if (t->depth == t->base) return 0;
        top = ps_frame(area, t, t->depth - 1);
        if (top->rsp != rsp) return 0;
    }
    if (top->return_address != *(const uint64_t*)rsp) {
        /* Another call made from where the frame's was (after a longjmp out of it). */
        ps_end_unseen(area, t, now);
        return 0;
    }
    /* The return of the top frame. */
    uint32_t index = top->function;
    ps_hook_function* fn = ps_hook_functions(area) + index;
    __atomic_add_fetch(&fn->ticks, now - top->ticks, __ATOMIC_RELAXED);
    if (fn->mode & PS_HOOK_RECORD) {
        ps_hook_record* r = ps_record_slot(area, t);
        if (r) {
            r->kind = PS_RECORD_RETURN;
            r->function = index;
            r->ticks = now;
            r->values[0] = regs[reg_rax];
            r->values[1] = regs[reg_rdx];
            ps_record_done(t);
        }
    }
    if (fn->mode & PS_HOOK_TARGET) {
        ps_hook_loop* loop = &area->loop;
        loop->active = 0;
        loop->iterations++;
        ps_loop_announce(loop);
        if (loop->loop && loop->frame == rsp) {
            /* Again, instead of returning: the next input, the saved arguments, and back to
             * the function's body with the stack as at its entry (the frame stays open). */
            ps_loop_wait(loop);
            ps_set_arguments(regs, loop->args);
            regs[reg_return] = loop->body;
            loop->active = 1;
            top->ticks = ps_ticks();
            return 0;
        }
        loop->announced = 1;
    }
    t->depth--;
    return (fn->mode & PS_HOOK_STOP_RETURN) ? PS_STOP_CODE(PS_STOP_RETURN, index) : 0;
}
