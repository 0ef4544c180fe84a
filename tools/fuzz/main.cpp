// fuzz: coverage-guided fuzzing of one function of a closed program (docs/fuzz.md).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <unistd.h>

#include "corpus.hpp"
#include "dictionary.hpp"
#include "fuzzer.hpp"
#include "mutator.hpp"
#include "options.hpp"

namespace {

namespace fs = std::filesystem;

std::atomic<int> g_stop_signal{0};

void on_stop_signal(int signal) { g_stop_signal.store(signal); }

// Ctrl-C and SIGTERM end the loop after the input that runs; everything found is kept.
void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal, &action, nullptr);
}

bool is_executable_file(const fs::path& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// Why the program cannot be run, or "" (the launcher would say so too, but only after the
// fuzzer has set up its output).
std::string program_problem(const std::string& name, const std::string& working_directory) {
    if (name.find('/') == std::string::npos) {
        const char* path_env = std::getenv("PATH");
        std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
        for (std::size_t start = 0;;) {
            std::size_t colon = path.find(':', start);
            std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
            if (is_executable_file(fs::path(dir.empty() ? "." : dir) / name)) return {};
            if (colon == std::string::npos) return name + ": program not found in PATH";
            start = colon + 1;
        }
    }
    fs::path program = name;
    if (program.is_relative() && !working_directory.empty() && !fs::exists(program)) program = fs::path(working_directory) / name;
    std::error_code ec;
    if (!fs::exists(program, ec)) return name + ": no such program";
    if (!fs::is_regular_file(program, ec)) return name + ": not a regular file";
    if (::access(program.c_str(), X_OK) != 0) return name + ": not executable";
    return {};
}

} // namespace

int main(int argc, char** argv) {
    auto options = fuzz::parse_options(argc, argv);
    if (!options) return options.error();
    auto error = [](const std::string& message) {
        std::fprintf(stderr, "fuzz: %s\n", message.c_str());
        return 1;
    };
    if (std::string problem = program_problem(options->target.argv.front(), options->target.working_directory); !problem.empty())
        return error(problem);
    std::error_code ec;
    if (!fs::exists(options->in_dir, ec)) return error(fmt::format("-in {}: no such directory", options->in_dir));
    if (!fs::is_directory(options->in_dir, ec)) return error(fmt::format("-in {}: not a directory", options->in_dir));
    std::vector<fuzz::Token> dictionary;
    if (!options->dict_file.empty()) {
        auto tokens = fuzz::read_dictionary(options->dict_file);
        if (!tokens) return error("-dict " + tokens.error());
        dictionary = std::move(*tokens);
    }
    auto corpus = fuzz::Corpus::open(options->out_dir);
    if (!corpus) return error("-out " + corpus.error());

    fuzz::Mutator mutator(options->seed, std::move(dictionary), options->target.max_sample_size);
    install_stop_handlers();
    fuzz::Fuzzer fuzzer(*options, *corpus, mutator, g_stop_signal);
    return fuzzer.run();
}
