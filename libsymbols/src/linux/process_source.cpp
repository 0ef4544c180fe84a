// A live Linux process as an image source: maps from libprocmaps, files through
// /proc/PID/map_files (deleted or replaced binaries) or /proc/PID/root (other mount namespaces).
#include <climits>
#include <unistd.h>

#include "procmaps/process.hpp"
#include "symbols/resolver.hpp"

namespace symbols {

namespace {

class ProcessImageSource final : public ImageSource {
public:
    ProcessImageSource(procmaps::Process process, procmaps::RegionList regions)
        : process_(std::move(process)), regions_(std::move(regions)), memory_(process_.memory()),
          executable_(read_executable_path(process_.pid())) {}

    const procmaps::RegionList& regions() const override { return regions_; }
    procmaps::MemoryReader& memory() override { return *memory_; }

    std::vector<std::string> open_candidates(const Image& image) const override {
        std::string proc = "/proc/" + std::to_string(process_.pid());
        std::vector<std::string> candidates;
        if (!image.mappings.empty()) {
            char name[64];
            std::snprintf(name, sizeof name, "/map_files/%llx-%llx",
                          static_cast<unsigned long long>(image.mappings.front().start),
                          static_cast<unsigned long long>(image.mappings.front().end));
            candidates.push_back(proc + name);
        }
        // map_files needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE); /proc/PID/exe only ptrace
        // access, so an unprivileged caller still reaches a deleted or replaced executable.
        if (image.path == executable_path()) candidates.push_back(proc + "/exe");
        if (!image.deleted && image.path.starts_with('/')) {
            candidates.push_back(proc + "/root" + image.path);
            candidates.push_back(image.path);
        }
        return candidates;
    }

    std::string debug_root() const override { return "/proc/" + std::to_string(process_.pid()) + "/root"; }

    // Read once: every image's candidates ask for it.
    std::string executable_path() const override { return executable_; }

    std::string describe() const override { return "process " + std::to_string(process_.pid()); }

private:
    static std::string read_executable_path(pid_t pid) {
        std::string link = "/proc/" + std::to_string(pid) + "/exe";
        char target[PATH_MAX];
        ssize_t n = ::readlink(link.c_str(), target, sizeof target);
        if (n <= 0) return {};
        std::string path(target, static_cast<std::size_t>(n));
        constexpr std::string_view deleted = " (deleted)";
        if (path.ends_with(deleted)) path.erase(path.size() - deleted.size());
        return path;
    }

    procmaps::Process process_;
    procmaps::RegionList regions_;
    std::unique_ptr<procmaps::MemoryReader> memory_;
    std::string executable_;
};

} // namespace

procscope::Expected<Resolver> Resolver::for_process(pid_t pid, ResolverOptions options) {
    auto process = procmaps::Process::open(pid);
    if (!process) return std::unexpected(process.error());
    auto regions = process->regions();
    if (!regions) return std::unexpected(regions.error());
    return for_source(std::make_unique<ProcessImageSource>(std::move(*process), std::move(*regions)),
                      std::move(options));
}

} // namespace symbols
