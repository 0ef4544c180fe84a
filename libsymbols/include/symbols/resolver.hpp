// Where symbol S lives in process P, and what is at address A: images from libprocmaps,
// symbols from libobjfile, the load bias computed as the loader does. One resolver for a
// live process or a core file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "procmaps/memory_reader.hpp"
#include "procmaps/region_list.hpp"
#include "symbols/file_cache.hpp"
#include "symbols/image.hpp"

namespace symbols {

struct ResolvedSymbol {
    std::string name;               // as nm prints it: "memcpy@@GLIBC_2.14"
    std::uint64_t address = 0;      // in the process
    std::uint64_t size = 0;
    std::size_t image = 0;          // index into Resolver::images()
    std::uint64_t file_vaddr = 0;   // the symbol's value in the file
    SymbolSource source = SymbolSource::dynamic_table;
};

struct ResolvedAddress {
    std::uint64_t address = 0;
    std::optional<std::size_t> image;        // none when no image covers the address
    std::optional<std::uint64_t> file_offset; // where the loader read it from; none in .bss
    std::uint64_t file_vaddr = 0;            // address - load bias, when in an image
    std::optional<AddressMatch> symbol;      // the symbol covering it, if any
};

// Where a resolver's images, regions and memory come from (a live process, a core file).
class ImageSource {
public:
    virtual ~ImageSource() = default;
    virtual const procmaps::RegionList& regions() const = 0;
    virtual procmaps::MemoryReader& memory() = 0;
    // Paths to try, in order, to open the file behind `image`.
    virtual std::vector<std::string> open_candidates(const Image& image) const = 0;
    // Whether the candidates are views of one file (a process's /proc links and its path), so a
    // file unusable through one is unusable through all; a core's candidates are other files.
    virtual bool candidates_are_one_file() const { return true; }
    // Prepended to absolute paths when looking for debug files (e.g. /proc/PID/root).
    virtual std::string debug_root() const = 0;
    // The main executable's path, if known (it is searched first).
    virtual std::string executable_path() const = 0;
    // "process 1234" / "core file core.1234", for messages.
    virtual std::string describe() const = 0;
    // The build-id the image had when it was mapped, when the file found by path may be
    // another one (a core's images, opened by their recorded paths); nullopt: no check.
    virtual std::optional<std::vector<std::byte>> mapped_build_id(const Image&) { return std::nullopt; }
};

struct ResolverOptions {
    std::vector<std::string> debug_dirs = {"/usr/lib/debug"};
    // Where a core file's images are looked for when their recorded path is missing.
    std::vector<std::string> search_dirs;
    FileCache* cache = nullptr; // nullptr: FileCache::shared()
};

class Resolver {
public:
    static procscope::Expected<Resolver> for_process(pid_t pid, ResolverOptions options = {});
    static procscope::Expected<Resolver> for_core(const std::string& core_path, ResolverOptions options = {});
    static procscope::Expected<Resolver> for_source(std::unique_ptr<ImageSource> source, ResolverOptions options = {});

    Resolver(Resolver&&) noexcept;
    Resolver& operator=(Resolver&&) noexcept;
    ~Resolver();

    const std::vector<Image>& images() const noexcept;
    const procmaps::RegionList& regions() const noexcept;
    procmaps::MemoryReader& memory();
    std::string describe() const;

    // The parsed file and load bias of image `index` (opened on first use, then cached).
    procscope::Expected<std::shared_ptr<const ImageFile>> image_file(std::size_t index) const;
    procscope::Expected<std::uint64_t> load_bias(std::size_t index) const;

    // The symbol `name` searched in every image, the main executable first, or only in
    // images whose file name contains `image_filter`. The not-found error lists the images
    // searched and why any of them could not be.
    procscope::Expected<ResolvedSymbol> find(std::string_view name, std::string_view image_filter = {}) const;
    // The image, file offset and symbol at `address`.
    procscope::Expected<ResolvedAddress> symbolize(std::uint64_t address) const;

private:
    struct State;
    explicit Resolver(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

} // namespace symbols
