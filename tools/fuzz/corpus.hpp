// The fuzzer's state on disk, under -out:
//   queue/    inputs that reached new coverage: id_000012,src_000003,op_havoc
//   crashes/  one input per crash name:          id_000000,SIGSEGV_parse+0x5f_magic_parser+0x11df
//   hangs/    one input per hang's coverage:      id_000000,cov_3f2a9c0d11e4b577
//   exits/    one input per exit code:            id_000000,code_3
//   crashes.txt  a line per saved crash: file, crash name, description
//   fuzzer_stats (status.hpp)
// Opening a directory that holds these resumes: the queue is loaded and the names of saved
// crashes, hangs and exits are known again, so they are not saved twice.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "mutator.hpp"

namespace fuzz {

struct QueueEntry {
    std::uint64_t id = 0;
    Bytes data;
    std::string file;        // its name in queue/
    std::uint32_t depth = 1; // 1 for a seed, its source's depth + 1 for a mutant
};

class Corpus {
public:
    // Creates the layout (or reads it back), and locks the directory against a second fuzzer.
    static std::expected<Corpus, std::string> open(const std::string& out_dir);
    Corpus(Corpus&& other) noexcept;
    Corpus& operator=(Corpus&&) = delete;
    ~Corpus();

    const std::string& directory() const noexcept { return dir_; }
    const std::vector<QueueEntry>& entries() const noexcept { return queue_; }
    std::size_t resumed() const noexcept { return resumed_; } // entries read back from queue/
    bool contains(std::span<const std::uint8_t> data) const;

    // Saves an input with new coverage; `source`: the entry it was made from; `op`: how.
    std::expected<const QueueEntry*, std::string> add(Bytes data, std::optional<std::uint64_t> source, std::string_view op);
    // Replaces an entry's bytes (a trimmed form of it); its file is rewritten.
    std::expected<void, std::string> replace(std::size_t index, Bytes data);

    // Each saves the input unless one with the same crash name, hang coverage or exit code is
    // saved already; true when saved.
    std::expected<bool, std::string> add_crash(std::span<const std::uint8_t> data, const std::string& crash_name,
                                               const std::string& description);
    std::expected<bool, std::string> add_hang(std::span<const std::uint8_t> data, std::uint64_t coverage_hash);
    std::expected<bool, std::string> add_exit(std::span<const std::uint8_t> data, int exit_code);
    std::size_t crashes() const noexcept { return crash_names_.size(); }
    std::size_t hangs() const noexcept { return hang_keys_.size(); }
    std::size_t exits() const noexcept { return exit_keys_.size(); }

    // Writes a file in -out so that a reader never sees it half written.
    std::expected<void, std::string> write_file(const std::string& relative, std::string_view text) const;

private:
    explicit Corpus(std::string dir) : dir_(std::move(dir)) {}
    std::expected<void, std::string> load();
    // Saves `data` as sub/id_NNNNNN,<suffix>; the file name.
    std::expected<std::string, std::string> save(const std::string& sub, std::uint64_t& next_id, const std::string& suffix,
                                                 std::span<const std::uint8_t> data) const;

    std::string dir_;
    int lock_fd_ = -1;
    std::vector<QueueEntry> queue_;
    std::size_t resumed_ = 0;
    std::unordered_set<std::string> contents_; // of the queue's inputs, to skip duplicates
    std::set<std::string> crash_names_, hang_keys_, exit_keys_; // as they appear in file names
    std::map<std::uint64_t, std::uint32_t> depths_;             // of queue entries, by id
    std::uint64_t next_queue_id_ = 0, next_crash_id_ = 0, next_hang_id_ = 0, next_exit_id_ = 0;
};

// `name` with every byte but letters, digits, '+', '.', '-' and '_' made '_' (runs of them
// become one), at most 100 bytes: a crash name as part of a file name.
std::string sanitize_file_name(std::string_view name);

} // namespace fuzz
