#include "instrument_test_support.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.hpp"

namespace instrument_test {

namespace {

using clock = std::chrono::steady_clock;

[[noreturn]] void exec_child(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
}

int status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

} // namespace

std::string program(const std::string& name) { return std::string(INSTRUMENT_TARGETS_DIR) + "/" + name; }

std::string cli() {
#ifdef INSTRUMENT_CLI
    return INSTRUMENT_CLI;
#else
    return "";
#endif
}

CommandResult run(const std::vector<std::string>& argv, const std::string& input, std::chrono::seconds limit) {
    CommandResult result;
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) return result;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        exec_child(argv);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    if (!input.empty()) {
        ssize_t ignored = ::write(in[1], input.data(), input.size());
        (void)ignored;
    }
    ::close(in[1]);
    auto deadline = clock::now() + limit;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open = 2;
    while (open > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buffer[4096];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    for (auto& fd : fds)
        if (fd.fd >= 0) ::close(fd.fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exited = WIFEXITED(status);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return result;
}

Background::Background(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC)) return;
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        // Its messages (instrument's summary) would only clutter the test log.
        int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 2);
        exec_child(argv);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
}

Background::~Background() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
}

std::optional<std::string> Background::read_line(std::chrono::seconds limit) {
    auto deadline = clock::now() + limit;
    for (;;) {
        if (std::size_t nl = pending_.find('\n'); nl != std::string::npos) {
            std::string line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            return line;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0) return std::nullopt;
        pollfd fd{out_, POLLIN, 0};
        if (::poll(&fd, 1, static_cast<int>(left)) <= 0) continue;
        char buffer[4096];
        ssize_t n = ::read(out_, buffer, sizeof buffer);
        if (n <= 0) return std::nullopt;
        pending_.append(buffer, static_cast<std::size_t>(n));
    }
}

std::string Background::read_rest(std::chrono::seconds limit) {
    std::string all;
    while (auto line = read_line(limit)) all += *line + "\n";
    all += pending_;
    pending_.clear();
    return all;
}

void Background::write(const std::string& text) {
    ssize_t ignored = ::write(in_, text.data(), text.size());
    (void)ignored;
}

int Background::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return status_code(status);
}

std::map<std::string, SymbolExtent> nm_functions(const std::string& path) {
    std::map<std::string, SymbolExtent> out;
    CommandResult listed = run({"nm", "-S", "--defined-only", path});
    std::istringstream lines(listed.out);
    std::string line;
    while (std::getline(lines, line)) {
        // "0000000000001139 0000000000000012 T crash_here"
        std::istringstream fields(line);
        std::string address, size, type, name;
        if (!(fields >> address >> size >> type >> name)) continue;
        if (type != "T" && type != "t") continue;
        out[name] = {std::stoull(address, nullptr, 16), std::stoull(size, nullptr, 16)};
    }
    return out;
}

std::set<std::uint64_t> objdump_instruction_starts(const std::string& path) {
    std::set<std::uint64_t> out;
    CommandResult listed = run({"objdump", "-d", "--no-show-raw-insn", path});
    std::istringstream lines(listed.out);
    std::string line;
    while (std::getline(lines, line)) {
        // "    1139:\tmovl   $0x2a,(%rdi)"
        std::size_t colon = line.find(":\t");
        if (colon == std::string::npos) continue;
        std::size_t first = line.find_first_not_of(' ');
        if (first >= colon) continue;
        char* end = nullptr;
        std::uint64_t address = std::strtoull(line.c_str() + first, &end, 16);
        if (end == line.c_str() + colon) out.insert(address);
    }
    return out;
}

std::set<std::uint64_t> read_plain_coverage(const std::string& path, const std::string& module) {
    std::set<std::uint64_t> out;
    std::ifstream in(path);
    std::string line;
    std::string prefix = module + "+0x";
    while (std::getline(in, line))
        if (line.starts_with(prefix)) out.insert(std::stoull(line.substr(prefix.size()), nullptr, 16));
    return out;
}

std::optional<DrcovFile> read_drcov(const std::string& path, std::string& why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = "cannot open " + path;
        return std::nullopt;
    }
    auto next_line = [&](std::string& line) { return static_cast<bool>(std::getline(in, line)); };
    DrcovFile file;
    std::string line;
    // "DRCOV VERSION: 2", "DRCOV FLAVOR: drcov"
    if (!next_line(line) || std::sscanf(line.c_str(), "DRCOV VERSION: %d", &file.version) != 1) {
        why = "bad version line: " + line;
        return std::nullopt;
    }
    if (!next_line(line) || !line.starts_with("DRCOV FLAVOR: ")) {
        why = "bad flavor line: " + line;
        return std::nullopt;
    }
    file.flavor = line.substr(14);
    unsigned table_version = 0, count = 0;
    if (!next_line(line) || std::sscanf(line.c_str(), "Module Table: version %u, count %u", &table_version, &count) != 2) {
        why = "bad module table header: " + line;
        return std::nullopt;
    }
    if (!next_line(line) || !line.starts_with("Columns: ")) {
        why = "bad columns line: " + line;
        return std::nullopt;
    }
    std::size_t columns = 1;
    for (char c : line) columns += c == ',';
    for (unsigned i = 0; i < count; ++i) {
        if (!next_line(line)) {
            why = "module table ends early";
            return std::nullopt;
        }
        // id, base, end, entry, [checksum, timestamp,] path; the path is the last column.
        std::vector<std::string> cells;
        std::size_t at = 0;
        for (std::size_t c = 0; c + 1 < columns; ++c) {
            std::size_t comma = line.find(", ", at);
            if (comma == std::string::npos) {
                why = "short module row: " + line;
                return std::nullopt;
            }
            cells.push_back(line.substr(at, comma - at));
            at = comma + 2;
        }
        cells.push_back(line.substr(at));
        DrcovModule module;
        module.id = static_cast<unsigned>(std::stoul(cells[0]));
        module.base = std::stoull(cells[1], nullptr, 16);
        module.end = std::stoull(cells[2], nullptr, 16);
        module.entry = std::stoull(cells[3], nullptr, 16);
        module.path = cells.back();
        file.modules.push_back(module);
    }
    unsigned blocks = 0;
    if (!next_line(line) || std::sscanf(line.c_str(), "BB Table: %u bbs", &blocks) != 1) {
        why = "bad BB table header: " + line;
        return std::nullopt;
    }
    for (unsigned i = 0; i < blocks; ++i) {
        unsigned char record[8];
        if (!in.read(reinterpret_cast<char*>(record), 8)) {
            why = "BB table ends early at entry " + std::to_string(i);
            return std::nullopt;
        }
        DrcovBlock block;
        block.start = static_cast<std::uint32_t>(record[0] | record[1] << 8 | record[2] << 16 |
                                                 static_cast<std::uint32_t>(record[3]) << 24);
        block.size = static_cast<std::uint16_t>(record[4] | record[5] << 8);
        block.module = static_cast<std::uint16_t>(record[6] | record[7] << 8);
        file.blocks.push_back(block);
    }
    if (in.peek() != EOF) {
        why = "bytes after the BB table";
        return std::nullopt;
    }
    return file;
}

std::map<std::uint64_t, std::uint64_t> auxv_of(pid_t pid) {
    std::string bytes = read_file("/proc/" + std::to_string(pid) + "/auxv");
    std::map<std::uint64_t, std::uint64_t> out;
    for (std::size_t at = 0; at + 16 <= bytes.size(); at += 16) {
        std::uint64_t key, value;
        std::memcpy(&key, bytes.data() + at, 8);
        std::memcpy(&value, bytes.data() + at + 8, 8);
        out[key] = value;
    }
    return out;
}

std::string temp_path(const std::string& name) { return testsupport::temp_dir() + "/" + name; }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<ObjdumpInstruction> disassemble_function(const std::string& path, const std::string& function,
                                                     const SymbolExtent& extent) {
    CommandResult listed = run({"objdump", "-d", "--no-show-raw-insn", "--disassemble=" + function, path});
    std::vector<ObjdumpInstruction> out;
    std::istringstream lines(listed.out);
    std::string line;
    while (std::getline(lines, line)) {
        // "    11dc:\tnotrack jmp *%rax"
        std::size_t colon = line.find(":\t");
        std::size_t first = line.find_first_not_of(' ');
        if (colon == std::string::npos || first >= colon) continue;
        char* end = nullptr;
        std::uint64_t address = std::strtoull(line.c_str() + first, &end, 16);
        if (end != line.c_str() + colon || !extent.contains(address)) continue;
        std::string text = line.substr(colon + 2);
        for (std::string_view prefix : {"notrack ", "bnd ", "rep ", "repz ", "lock "})
            if (text.starts_with(prefix)) text.erase(0, prefix.size());
        out.push_back({address, text.substr(0, text.find_first_of(" \t")), text});
    }
    return out;
}

std::uint64_t branch_target(const ObjdumpInstruction& instruction) {
    return std::stoull(instruction.text.substr(instruction.text.find_first_of(" \t")), nullptr, 16);
}

} // namespace instrument_test
