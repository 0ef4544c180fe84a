#include "corpus.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

namespace fuzz {

namespace fs = std::filesystem;

namespace {

constexpr const char* sub_dirs[] = {"queue", "crashes", "hangs", "exits"};

std::string as_string(std::span<const std::uint8_t> data) { return {data.begin(), data.end()}; }

// "id_000012,src_000003,op_havoc" -> 12 and "src_000003,op_havoc"; nullopt for other names.
std::optional<std::pair<std::uint64_t, std::string>> split_id(const std::string& name) {
    if (!name.starts_with("id_")) return std::nullopt;
    std::uint64_t id = 0;
    const char* begin = name.data() + 3;
    const char* end = name.data() + name.size();
    auto [stop, ec] = std::from_chars(begin, end, id);
    if (ec != std::errc{} || stop == begin) return std::nullopt;
    if (stop != end && *stop != ',') return std::nullopt;
    return std::pair{id, stop == end ? std::string{} : std::string(stop + 1, end)};
}

std::expected<Bytes, std::string> read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected(path.string() + ": " + std::strerror(errno));
    Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return std::unexpected(path.string() + ": cannot read it");
    return data;
}

std::string error_text(const fs::path& path, const std::error_code& ec) { return path.string() + ": " + ec.message(); }

} // namespace

std::string sanitize_file_name(std::string_view name) {
    std::string out;
    for (char c : name) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '.' ||
                     c == '-' || c == '_';
        if (plain) out.push_back(c);
        else if (!out.empty() && out.back() != '_') out.push_back('_');
        if (out.size() >= 100) break;
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    if (out.empty() || out.front() == '.') out.insert(0, "crash_");
    return out;
}

std::expected<Corpus, std::string> Corpus::open(const std::string& out_dir) {
    Corpus corpus(out_dir);
    std::error_code ec;
    for (const char* sub : sub_dirs) {
        fs::path path = fs::path(out_dir) / sub;
        fs::create_directories(path, ec);
        if (ec) return std::unexpected(error_text(path, ec));
    }
    // The lock also proves the directory writable.
    std::string lock = (fs::path(out_dir) / ".lock").string();
    corpus.lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (corpus.lock_fd_ < 0) return std::unexpected(lock + ": " + std::strerror(errno));
    if (::flock(corpus.lock_fd_, LOCK_EX | LOCK_NB) != 0)
        return std::unexpected(out_dir + ": another fuzz process uses this directory");
    if (auto loaded = corpus.load(); !loaded) return std::unexpected(loaded.error());
    return corpus;
}

Corpus::Corpus(Corpus&& other) noexcept
    : dir_(std::move(other.dir_)), lock_fd_(std::exchange(other.lock_fd_, -1)), queue_(std::move(other.queue_)),
      resumed_(other.resumed_), contents_(std::move(other.contents_)), crash_names_(std::move(other.crash_names_)),
      hang_keys_(std::move(other.hang_keys_)), exit_keys_(std::move(other.exit_keys_)), depths_(std::move(other.depths_)),
      next_queue_id_(other.next_queue_id_),
      next_crash_id_(other.next_crash_id_), next_hang_id_(other.next_hang_id_), next_exit_id_(other.next_exit_id_) {}

Corpus::~Corpus() {
    if (lock_fd_ >= 0) ::close(lock_fd_); // releases the lock
}

std::expected<void, std::string> Corpus::load() {
    struct Found {
        std::uint64_t id;
        std::string rest;
        fs::path path;
    };
    for (const char* sub : sub_dirs) {
        std::error_code ec;
        std::vector<Found> found;
        for (const fs::directory_entry& entry : fs::directory_iterator(fs::path(dir_) / sub, ec)) {
            std::string name = entry.path().filename().string();
            auto id = split_id(name);
            std::error_code kind_ec;
            if (!id || !entry.is_regular_file(kind_ec)) continue; // temporaries and files of the user's
            found.push_back({id->first, id->second, entry.path()});
        }
        if (ec) return std::unexpected(error_text(fs::path(dir_) / sub, ec));
        std::ranges::sort(found, {}, &Found::id);
        std::string kind = sub;
        std::uint64_t next = found.empty() ? 0 : found.back().id + 1;
        if (kind == "queue") {
            next_queue_id_ = next;
            for (Found& f : found) {
                auto data = read_bytes(f.path);
                if (!data) return std::unexpected(data.error());
                contents_.insert(as_string(*data));
                std::uint32_t depth = 1;
                if (f.rest.starts_with("src_"))
                    if (auto source = split_id("id_" + f.rest.substr(4)); source && depths_.contains(source->first))
                        depth = depths_[source->first] + 1;
                depths_[f.id] = depth;
                queue_.push_back({f.id, std::move(*data), f.path.filename().string(), depth});
            }
            resumed_ = queue_.size();
        } else if (kind == "crashes") {
            next_crash_id_ = next;
            for (Found& f : found) crash_names_.insert(f.rest);
        } else if (kind == "hangs") {
            next_hang_id_ = next;
            for (Found& f : found) hang_keys_.insert(f.rest);
        } else {
            next_exit_id_ = next;
            for (Found& f : found) exit_keys_.insert(f.rest);
        }
    }
    return {};
}

bool Corpus::contains(std::span<const std::uint8_t> data) const { return contents_.contains(as_string(data)); }

std::expected<void, std::string> Corpus::write_file(const std::string& relative, std::string_view text) const {
    fs::path path = fs::path(dir_) / relative;
    fs::path temporary = path.parent_path() / ("." + path.filename().string() + ".tmp");
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        if (!out) return std::unexpected(temporary.string() + ": cannot write it: " + std::strerror(errno));
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) return std::unexpected(error_text(path, ec));
    return {};
}

std::expected<std::string, std::string> Corpus::save(const std::string& sub, std::uint64_t& next_id, const std::string& suffix,
                                                     std::span<const std::uint8_t> data) const {
    std::string name = fmt::format("id_{:06}", next_id);
    if (!suffix.empty()) name += "," + suffix;
    if (auto ok = write_file(sub + "/" + name, std::string_view(reinterpret_cast<const char*>(data.data()), data.size())); !ok)
        return std::unexpected(ok.error());
    ++next_id;
    return name;
}

std::expected<const QueueEntry*, std::string> Corpus::add(Bytes data, std::optional<std::uint64_t> source, std::string_view op) {
    std::string suffix;
    if (source) suffix = fmt::format("src_{:06},", *source);
    suffix += fmt::format("op_{}", op);
    std::uint64_t id = next_queue_id_;
    auto name = save("queue", next_queue_id_, suffix, data);
    if (!name) return std::unexpected(name.error());
    contents_.insert(as_string(data));
    std::uint32_t depth = source && depths_.contains(*source) ? depths_[*source] + 1 : 1;
    depths_[id] = depth;
    queue_.push_back({id, std::move(data), std::move(*name), depth});
    return &queue_.back();
}

std::expected<void, std::string> Corpus::replace(std::size_t index, Bytes data) {
    QueueEntry& entry = queue_.at(index);
    auto ok = write_file("queue/" + entry.file, std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    if (!ok) return ok;
    contents_.erase(as_string(entry.data));
    contents_.insert(as_string(data));
    entry.data = std::move(data);
    return {};
}

std::expected<bool, std::string> Corpus::add_crash(std::span<const std::uint8_t> data, const std::string& crash_name,
                                                   const std::string& description) {
    std::string key = sanitize_file_name(crash_name);
    if (crash_names_.contains(key)) return false;
    auto name = save("crashes", next_crash_id_, key, data);
    if (!name) return std::unexpected(name.error());
    crash_names_.insert(key);
    // An index with the names in full (the file names lose their spaces and brackets).
    std::ofstream index(fs::path(dir_) / "crashes.txt", std::ios::app);
    index << *name << '\t' << crash_name << '\t' << description << '\n';
    return true;
}

std::expected<bool, std::string> Corpus::add_hang(std::span<const std::uint8_t> data, std::uint64_t coverage_hash) {
    std::string key = fmt::format("cov_{:016x}", coverage_hash);
    if (hang_keys_.contains(key)) return false;
    auto name = save("hangs", next_hang_id_, key, data);
    if (!name) return std::unexpected(name.error());
    hang_keys_.insert(key);
    return true;
}

std::expected<bool, std::string> Corpus::add_exit(std::span<const std::uint8_t> data, int exit_code) {
    std::string key = fmt::format("code_{}", exit_code);
    if (exit_keys_.contains(key)) return false;
    auto name = save("exits", next_exit_id_, key, data);
    if (!name) return std::unexpected(name.error());
    exit_keys_.insert(key);
    return true;
}

} // namespace fuzz
