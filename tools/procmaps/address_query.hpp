// --addr: the region holding each address (and, for live processes, the mapped file's
// build-id), printed as a table or JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "output_buffer.hpp"
#include "procmaps/process.hpp"
#include "procmaps/region_list.hpp"
#include "source_info.hpp"

namespace procmaps::cli {

struct AddressAnswer {
    std::uint64_t address = 0;
    const Region* region = nullptr;        // null when the address is unmapped
    std::span<const std::byte> build_id;   // empty when unknown or absent
};

// Answers in the order the addresses were given; regions live as long as this object.
class AddressAnswers {
public:
    std::span<const AddressAnswer> answers() const noexcept { return answers_; }

    // One query per distinct region: later addresses inside an answered region reuse it.
    static Expected<AddressAnswers> from_process(const Process& process, std::span<const std::uint64_t> addrs);
    // From the core's PT_LOAD regions; no build-ids.
    static AddressAnswers from_regions(const RegionList& regions, std::span<const std::uint64_t> addrs);

private:
    std::vector<AddressAnswer> answers_;
    std::vector<std::unique_ptr<RegionQuery>> queries_;
};

void write_address_table(OutputBuffer& out, const SourceInfo& source, const AddressAnswers& answers,
                         bool headings);
// {"schema":"procmaps/1","source":{...},"queries":[{"address":..,"region":..,"build_id":..,"file_offset":..}]}
void write_address_json(OutputBuffer& out, const SourceInfo& source, const AddressAnswers& answers);

} // namespace procmaps::cli
