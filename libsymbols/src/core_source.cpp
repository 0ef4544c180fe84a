// A core file as an image source: regions and memory from libprocmaps' core reader, image
// files at their recorded paths, else beside the core, else in the search directories.
#include "procmaps/core_file.hpp"
#include "symbols/memory_build_id.hpp"
#include "symbols/resolver.hpp"

namespace symbols {

namespace {

std::string directory_of(const std::string& path) {
    std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

class CoreImageSource final : public ImageSource {
public:
    CoreImageSource(procmaps::CoreFile core, std::string core_path, std::vector<std::string> search_dirs)
        : core_(std::move(core)), core_path_(std::move(core_path)), search_dirs_(std::move(search_dirs)) {
        search_dirs_.push_back(directory_of(core_path_));
    }

    const procmaps::RegionList& regions() const override { return core_.regions(); }
    procmaps::MemoryReader& memory() override { return core_.memory(); }

    std::vector<std::string> open_candidates(const Image& image) const override {
        std::vector<std::string> candidates = {image.path};
        for (const std::string& dir : search_dirs_) candidates.push_back(dir + "/" + std::string(image.file_name()));
        return candidates;
    }

    bool candidates_are_one_file() const override { return false; }
    std::string debug_root() const override { return {}; }
    // Cores name no executable; the lowest image is it for PIE and non-PIE programs alike.
    std::string executable_path() const override { return {}; }
    std::string describe() const override { return "core file " + core_path_; }

    // From the headers the core kept (cores keep ELF header pages by default).
    std::optional<std::vector<std::byte>> mapped_build_id(const Image& image) override {
        if (image.mappings.empty() || image.mappings.front().file_offset != 0) return std::nullopt;
        return build_id_in_memory(core_.memory(), image.mappings.front().start);
    }

private:
    procmaps::CoreFile core_;
    std::string core_path_;
    std::vector<std::string> search_dirs_;
};

} // namespace

procscope::Expected<Resolver> Resolver::for_core(const std::string& core_path, ResolverOptions options) {
    auto core = procmaps::CoreFile::open(core_path);
    if (!core) return std::unexpected(core.error());
    auto dirs = options.search_dirs;
    return for_source(std::make_unique<CoreImageSource>(std::move(*core), core_path, std::move(dirs)), std::move(options));
}

} // namespace symbols
