// Running programs and the instrument CLI from the tests, and independent oracles: nm for
// symbol extents, and a drcov reader written from the format description (not from our writer).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

namespace instrument_test {

// A test program built next to the tests ("branches", "libplugin.so", ...).
std::string program(const std::string& name);
// The instrument CLI, or "" when it was not built.
std::string cli();

struct CommandResult {
    bool exited = false;
    int exit_code = -1; // when exited
    int signal = 0;     // when killed
    bool timed_out = false;
    std::string out, err;
};

// Runs argv with `input` on stdin, capturing stdout and stderr apart. Generous limit: the
// machine may be loaded; past it the command is killed and timed_out set.
CommandResult run(const std::vector<std::string>& argv, const std::string& input = "",
                  std::chrono::seconds limit = std::chrono::seconds(120));

// A program started in the background with pipes to its stdin and stdout.
class Background {
public:
    explicit Background(const std::vector<std::string>& argv);
    ~Background(); // kills it if still running
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    pid_t pid() const { return pid_; }
    // The next line of its stdout (without the newline); nullopt at EOF or after `limit`.
    std::optional<std::string> read_line(std::chrono::seconds limit = std::chrono::seconds(60));
    // Everything left on stdout until EOF.
    std::string read_rest(std::chrono::seconds limit = std::chrono::seconds(60));
    void write(const std::string& text);
    // Waits for it to end: exit code, or 128+signal.
    int wait();

private:
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1;
    std::string pending_;
    bool reaped_ = false;
};

struct SymbolExtent {
    std::uint64_t start = 0; // file vaddr
    std::uint64_t size = 0;
    bool contains(std::uint64_t vaddr) const { return vaddr >= start && vaddr < start + size; }
};
// Function symbols of `path` as `nm -S --defined-only` lists them.
std::map<std::string, SymbolExtent> nm_functions(const std::string& path);
// Instruction start addresses of the executable sections as `objdump -d` disassembles them.
std::set<std::uint64_t> objdump_instruction_starts(const std::string& path);

// One instruction as `objdump -d --no-show-raw-insn` prints it, prefixes (notrack, bnd, rep,
// repz, lock) left out: text "jne    11d0 <work_a+0x10>", mnemonic "jne".
struct ObjdumpInstruction {
    std::uint64_t address = 0;
    std::string mnemonic;
    std::string text;
};
// The instructions of `function` (its extent from nm) in `path`.
std::vector<ObjdumpInstruction> disassemble_function(const std::string& path, const std::string& function,
                                                     const SymbolExtent& extent);
// The direct target of a branch or call: "jne    11d0 <work_a+0x10>" -> 0x11d0.
std::uint64_t branch_target(const ObjdumpInstruction& instruction);

// Offsets of a module in a `module+0xoffset` file.
std::set<std::uint64_t> read_plain_coverage(const std::string& path, const std::string& module);

struct DrcovModule {
    unsigned id = 0;
    std::uint64_t base = 0, end = 0, entry = 0;
    std::string path;
};
struct DrcovBlock {
    std::uint32_t start = 0;
    std::uint16_t size = 0;
    std::uint16_t module = 0;
};
struct DrcovFile {
    int version = 0;
    std::string flavor;
    std::vector<DrcovModule> modules;
    std::vector<DrcovBlock> blocks;
};
// Parses a drcov file (version 2, module table version 2, Linux or Windows columns, binary BB
// table) the way Lighthouse does; nullopt with `why` set when it does not parse.
std::optional<DrcovFile> read_drcov(const std::string& path, std::string& why);

// /proc/PID/auxv as key -> value (AT_ENTRY is 9, AT_BASE 7); empty when unreadable.
std::map<std::uint64_t, std::uint64_t> auxv_of(pid_t pid);

std::string temp_path(const std::string& name);
std::string read_file(const std::string& path);

} // namespace instrument_test
