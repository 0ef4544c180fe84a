// C++ unwinding through code an engine may have moved: it only works when the return
// addresses on the stack are the original ones (the unwinder looks them up in .eh_frame).
//  1. std::stoi("x") throws std::invalid_argument inside libstdc++ (not instrumented); it is
//     caught here.
//  2. level_5 throws (in round 1; round 0 returns normally); the exception crosses level_4 ..
//     level_1, each with a Guard whose destructor prints, and is caught in main.
//  3. backtrace() from bt_3 (main -> bt_1 -> bt_2 -> bt_3): each frame in this executable is
//     printed as its offset from the executable's base and the symbol backtrace_symbols
//     names (built with -rdynamic, so the names come from .dynsym).
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <execinfo.h>
#include <stdexcept>
#include <string>

namespace {

struct Guard {
    int level;
    explicit Guard(int l) : level(l) { std::printf("enter %d\n", level); }
    ~Guard() { std::printf("unwind %d\n", level); }
};

volatile int depth_sink;

} // namespace

extern "C" {

__attribute__((noinline)) int level_5(int x) {
    Guard guard(5);
    if (x > 4) throw std::runtime_error("deep " + std::to_string(x));
    return x;
}
__attribute__((noinline)) int level_4(int x) {
    Guard guard(4);
    int r = level_5(x + 1);
    depth_sink = r;
    return r + 1;
}
__attribute__((noinline)) int level_3(int x) {
    Guard guard(3);
    int r = level_4(x + 1);
    depth_sink = r;
    return r + 1;
}
__attribute__((noinline)) int level_2(int x) {
    Guard guard(2);
    int r = level_3(x + 1);
    depth_sink = r;
    return r + 1;
}
__attribute__((noinline)) int level_1(int x) {
    Guard guard(1);
    int r = level_2(x + 1);
    depth_sink = r;
    return r + 1;
}

__attribute__((noinline)) int bt_3(void) {
    void* frames[32];
    int n = backtrace(frames, 32);
    char** names = backtrace_symbols(frames, n);
    Dl_info self{};
    dladdr(reinterpret_cast<void*>(&bt_3), &self);
    int printed = 0;
    for (int i = 0; i < n; i++) {
        Dl_info info{};
        if (!dladdr(frames[i], &info) || info.dli_fbase != self.dli_fbase) continue; // libc's frames
        // "/path/exceptions(bt_2+0x9) [0x55...]": keep "(bt_2+0x9)", drop the path and address.
        const char* open = names ? std::strchr(names[i], '(') : nullptr;
        const char* close = open ? std::strchr(open, ')') : nullptr;
        std::string symbol = open && close ? std::string(open, close + 1) : "?";
        std::printf("frame %d: +%#lx %s\n", printed++,
                    static_cast<unsigned long>(static_cast<char*>(frames[i]) - static_cast<char*>(info.dli_fbase)),
                    symbol.c_str());
    }
    std::free(names);
    return printed;
}
__attribute__((noinline)) int bt_2(void) {
    int r = bt_3();
    depth_sink = r;
    return r + 1;
}
__attribute__((noinline)) int bt_1(void) {
    int r = bt_2();
    depth_sink = r;
    return r + 1;
}

} // extern "C"

int main(int argc, char**) {
    try {
        std::printf("stoi %d\n", std::stoi(argc > 100 ? "12" : "x"));
    } catch (const std::invalid_argument& e) {
        std::printf("caught invalid_argument: %s\n", e.what());
    }
    for (int round = 0; round < 2; round++) {
        try {
            std::printf("result %d\n", level_1(round));
        } catch (const std::runtime_error& e) {
            std::printf("caught runtime_error: %s\n", e.what());
        }
    }
    std::printf("bt %d\n", bt_1());
    return 0;
}
