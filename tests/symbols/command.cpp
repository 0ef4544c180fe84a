#include "command.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.hpp"

namespace symtest {

bool have_program(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        std::string candidate = dir + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return true;
    }
    return false;
}

std::string python_on_json(const std::string& json_text, const std::string& script) {
    static int counter = 0;
    std::string path = testsupport::temp_dir() + "/procsym-" + std::to_string(++counter) + ".json";
    std::ofstream(path, std::ios::binary) << json_text;
    RunResult r = run({"python3", "-c", "import json,sys\nd=json.load(open(sys.argv[1],encoding='utf-8'))\n" + script, path});
    INFO("json: " << json_text);
    INFO("python3 stderr: " << r.err);
    REQUIRE(r.status == 0);
    return r.out;
}

std::string make_core(pid_t pid, const std::string& name) {
    if (!have_program("gcore")) return "";
    std::string prefix = testsupport::temp_dir() + "/" + name;
    RunResult r = run({"gcore", "-o", prefix, std::to_string(pid)}, std::nullopt, 120);
    std::string path = prefix + "." + std::to_string(pid);
    INFO("gcore: " << r.out << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(::access(path.c_str(), R_OK) == 0);
    return path;
}

} // namespace symtest
