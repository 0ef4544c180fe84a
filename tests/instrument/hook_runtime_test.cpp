// The hook runtime's logic (src/hooks/hook_runtime.c), called natively on an area of the test's
// own: frames closed by the stack pointer and the return address, longjmp-style unwinding, deep
// recursion beyond the shadow stack, full rings and too many threads counted, C strings copied
// without faulting on bad pointers, stop codes. The engine runs the same code in the target
// (function_hooks_test.cpp).
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "hooks/hook_layout.h"

extern "C" {
std::uint64_t ps_hook_entry(ps_hook_area* area, std::uint64_t index, std::uint64_t* regs, std::uint64_t rsp, std::uint64_t salt = 0);
std::uint64_t ps_hook_return(ps_hook_area* area, std::uint64_t unused, std::uint64_t* regs, std::uint64_t rsp, std::uint64_t salt = 0);
}

namespace {

// The glue's saved registers: r11 r10 r9 r8 rdi rsi rdx rcx rax, then its return address.
struct Saved {
    std::uint64_t r11 = 0, r10 = 0, r9 = 0, r8 = 0, rdi = 0, rsi = 0, rdx = 0, rcx = 0, rax = 0, glue_return = 0;
    std::uint64_t* regs() { return &r11; }
};

class Area {
public:
    Area(std::uint32_t functions, std::uint32_t threads, std::uint32_t frames, std::uint32_t records)
        : memory_(ps_hook_area_bytes(functions, threads, frames, records) / 8 + 1) {
        ps_hook_area& a = *area();
        a.magic = PS_HOOK_MAGIC;
        a.functions = functions;
        a.threads = threads;
        a.frames = frames;
        a.records = records;
        a.thread_bytes = sizeof(ps_hook_thread) + std::uint64_t{frames} * sizeof(ps_hook_frame) +
                         std::uint64_t{records} * sizeof(ps_hook_record);
        a.threads_offset = ps_hook_area_bytes(functions, 0, 0, 0);
    }
    ps_hook_area* area() { return reinterpret_cast<ps_hook_area*>(memory_.data()); }
    ps_hook_function& function(std::uint32_t k) { return ps_hook_functions(area())[k]; }
    // The calling thread's slot (the first claimed one in a single-threaded test).
    ps_hook_thread* thread() {
        for (std::uint32_t k = 0; k < area()->threads; ++k)
            if (ps_hook_thread_at(area(), k)->key != 0) return ps_hook_thread_at(area(), k);
        return nullptr;
    }
    std::vector<ps_hook_record> records() {
        std::vector<ps_hook_record> out;
        ps_hook_thread* t = thread();
        for (std::uint64_t k = t->tail; k < t->head; ++k) out.push_back(ps_hook_ring(area(), t)[k & (area()->records - 1)]);
        t->tail = t->head;
        return out;
    }

private:
    std::vector<std::uint64_t> memory_;
};

// A stack the "calls" run on: slot k holds the return address of a frame entered at &slots[k].
struct Stack {
    std::uint64_t slots[64] = {};
    std::uint64_t at(int k, std::uint64_t return_address) {
        slots[k] = return_address;
        return reinterpret_cast<std::uint64_t>(&slots[k]);
    }
    std::uint64_t rsp(int k) { return reinterpret_cast<std::uint64_t>(&slots[k]); }
};

} // namespace

TEST_CASE("hook runtime: nested calls return in order; returns of other functions leave the frames alone") {
    Area a(4, 4, 8, 64);
    a.function(0).mode = PS_HOOK_TIME | PS_HOOK_RECORD;
    a.function(1).mode = PS_HOOK_TIME | PS_HOOK_RECORD;
    Stack s;
    Saved r;
    r.rdi = 11, r.rsi = 22, r.rdx = 33, r.rcx = 44, r.r8 = 55, r.r9 = 66;
    CHECK(ps_hook_entry(a.area(), 0, r.regs(), s.at(40, 0x1000)) == 0);
    CHECK(ps_hook_entry(a.area(), 1, r.regs(), s.at(30, 0x2000)) == 0);
    // An unhooked callee returns below both frames: nothing closes.
    CHECK(ps_hook_return(a.area(), 0, r.regs(), s.at(20, 0x3000)) == 0);
    CHECK(a.thread()->depth == 2);
    r.rax = 7;
    ps_hook_return(a.area(), 0, r.regs(), s.rsp(30));
    r.rax = 9;
    ps_hook_return(a.area(), 0, r.regs(), s.rsp(40));
    CHECK(a.thread()->depth == 0);
    CHECK(a.function(0).calls == 1);
    CHECK(a.function(1).calls == 1);
    CHECK(a.function(0).unwound == 0);
    CHECK(a.function(0).ticks >= a.function(1).ticks); // inclusive
    auto records = a.records();
    REQUIRE(records.size() == 4);
    CHECK(records[0].kind == PS_RECORD_ENTRY);
    CHECK(records[0].values[0] == 11);
    CHECK(records[0].values[5] == 66);
    CHECK(records[2].kind == PS_RECORD_RETURN);
    CHECK(records[2].function == 1);
    CHECK(records[2].values[0] == 7);
    CHECK(records[3].function == 0);
    CHECK(records[3].values[0] == 9);
}

TEST_CASE("hook runtime: frames left by longjmp end as unwound, at a ret above them or at a new entry") {
    Area a(4, 4, 8, 64);
    a.function(0).mode = PS_HOOK_TIME | PS_HOOK_RECORD;
    Stack s;
    Saved r;
    ps_hook_entry(a.area(), 0, r.regs(), s.at(40, 0x1000));
    ps_hook_entry(a.area(), 0, r.regs(), s.at(30, 0x1100));
    ps_hook_entry(a.area(), 0, r.regs(), s.at(20, 0x1100));
    // longjmp to a frame above all three; the next ret there closes them.
    CHECK(ps_hook_return(a.area(), 0, r.regs(), s.at(50, 0x9000)) == 0);
    CHECK(a.thread()->depth == 0);
    CHECK(a.function(0).unwound == 3);
    // A new entry at or above an open frame ends it too.
    ps_hook_entry(a.area(), 0, r.regs(), s.at(20, 0x1100));
    ps_hook_entry(a.area(), 0, r.regs(), s.at(30, 0x1200));
    CHECK(a.thread()->depth == 1);
    CHECK(a.function(0).unwound == 4);
    // A ret at the frame's stack pointer that pops another address: another call made from
    // there after a longjmp out of it; unwound, not returned.
    CHECK(ps_hook_return(a.area(), 0, r.regs(), s.at(30, 0x1300)) == 0);
    CHECK(a.thread()->depth == 0);
    CHECK(a.function(0).unwound == 5);
    std::size_t unwound_records = 0, returns = 0;
    for (const auto& rec : a.records()) {
        unwound_records += rec.kind == PS_RECORD_UNWOUND;
        returns += rec.kind == PS_RECORD_RETURN;
    }
    CHECK(unwound_records == 5);
    CHECK(returns == 0);
}

TEST_CASE("hook runtime: recursion deeper than the shadow stack keeps the innermost frames and counts the others") {
    Area a(2, 4, 4, 0);
    a.function(0).mode = PS_HOOK_TIME;
    Stack s;
    Saved r;
    for (int k = 0; k < 10; ++k) ps_hook_entry(a.area(), 0, r.regs(), s.at(60 - 2 * k, 0x1000 + k));
    CHECK(a.function(0).calls == 10);
    CHECK(a.thread()->lost == 6);
    for (int k = 9; k >= 0; --k) ps_hook_return(a.area(), 0, r.regs(), s.rsp(60 - 2 * k));
    CHECK(a.thread()->depth == a.thread()->base);
    CHECK(a.function(0).unwound == 0);
    CHECK(a.function(0).ticks > 0);
}

TEST_CASE("hook runtime: a full ring drops records and counts them; stop codes name the function and the side") {
    Area a(4, 4, 8, 8);
    a.function(2).mode = PS_HOOK_RECORD | PS_HOOK_STOP_ENTRY | PS_HOOK_STOP_RETURN;
    Stack s;
    Saved r;
    for (int k = 0; k < 5; ++k) {
        CHECK(ps_hook_entry(a.area(), 2, r.regs(), s.at(40, 0x1000)) == PS_STOP_CODE(PS_STOP_ENTRY, 2));
        CHECK(ps_hook_return(a.area(), 0, r.regs(), s.rsp(40)) == PS_STOP_CODE(PS_STOP_RETURN, 2));
    }
    CHECK(a.thread()->dropped == 2); // 10 records, 8 places
    CHECK(a.records().size() == 8);
    // Out-of-range index: ignored.
    CHECK(ps_hook_entry(a.area(), 99, r.regs(), s.at(40, 0x1000)) == 0);
}

TEST_CASE("hook runtime: C-string arguments are copied; a bad pointer is marked unreadable, not a fault") {
    Area a(2, 4, 8, 64);
    a.function(0).mode = PS_HOOK_RECORD;
    a.function(0).strings = 0b11;
    Stack s;
    Saved r;
    std::string long_text(150, 'x');
    long_text += "end";
    r.rdi = reinterpret_cast<std::uint64_t>(long_text.c_str());
    r.rsi = 0x10; // unmapped
    ps_hook_entry(a.area(), 0, r.regs(), s.at(40, 0x1000));
    std::string copied;
    bool unreadable = false;
    for (const auto& rec : a.records()) {
        if (rec.kind != PS_RECORD_STRING) continue;
        const char* text = reinterpret_cast<const char*>(rec.values);
        if (rec.function == 0) copied += std::string(text, strnlen(text, sizeof rec.values));
        if (rec.function == 1) unreadable = rec.ticks == 1 && text[0] == 0;
    }
    CHECK(copied == long_text);
    CHECK(unreadable);
}

TEST_CASE("hook runtime: each thread has its own slot; threads beyond the slots are counted, not timed") {
    Area a(2, 2, 8, 0);
    a.function(0).mode = PS_HOOK_TIME;
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
        threads.emplace_back([&] {
            Stack s;
            Saved r;
            for (int n = 0; n < 100; ++n) {
                ps_hook_entry(a.area(), 0, r.regs(), s.at(40, 0x1000));
                ps_hook_return(a.area(), 0, r.regs(), s.rsp(40));
            }
        });
    for (auto& t : threads) t.join();
    CHECK(a.function(0).calls == 400);
    CHECK(a.area()->no_slot == 200); // two threads found no slot
    for (std::uint32_t k = 0; k < 2; ++k) {
        ps_hook_thread* t = ps_hook_thread_at(a.area(), k);
        CHECK(t->key != 0);
        CHECK(t->tid != 0);
        CHECK(t->depth == 0);
    }
}
