#include "instrument/cache_coverage_client.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace instrument {

procscope::Expected<std::map<std::string, std::set<std::pair<std::uint64_t, std::uint64_t>>>>
read_coverage_points(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::unexpected(procscope::error_from_errno(errno, path));
    std::map<std::string, std::set<std::pair<std::uint64_t, std::uint64_t>>> out;
    std::string line;
    std::size_t number = 0;
    // "name+0xOFF" -> (name, OFF); the last '+' splits, since names may hold one.
    auto point = [](const std::string& word, std::string& name, std::uint64_t& offset) {
        std::size_t plus = word.rfind("+0x");
        if (plus == std::string::npos || plus == 0) {
            if (word.starts_with("0x")) {
                name.clear();
                return std::sscanf(word.c_str() + 2, "%" SCNx64, &offset) == 1;
            }
            return false;
        }
        name = word.substr(0, plus);
        return std::sscanf(word.c_str() + plus + 3, "%" SCNx64, &offset) == 1;
    };
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        std::istringstream words(line);
        std::string first, second;
        words >> first >> second;
        std::string name, target_name;
        std::uint64_t offset = 0, target = 0;
        bool ok = point(first, name, offset) && !name.empty();
        if (ok && second.starts_with("cmp="))
            ok = std::sscanf(second.c_str() + 4, "%" SCNu64, &target) == 1 && target > 0 && target < 8;
        else if (ok && !second.empty() && (second.find("+0x") != std::string::npos || second.starts_with("0x")))
            ok = point(second, target_name, target);
        if (!ok)
            return procscope::make_error(procscope::ErrorCode::malformed,
                                         path + ":" + std::to_string(number) + ": not a coverage point: " + line);
        out[name].insert({offset, target});
    }
    return out;
}

std::string_view hit_bucket(std::uint8_t count) noexcept {
    if (count >= 128) return "128+";
    if (count >= 32) return "32-127";
    if (count >= 16) return "16-31";
    if (count >= 8) return "8-15";
    if (count >= 4) return "4-7";
    if (count == 3) return "3";
    if (count == 2) return "2";
    return "1";
}

// The point's count, 0 when not hit, at most 255 (AFL's buckets end at 128+).
std::uint8_t CacheCoverageClient::count_of(const Point& p) const noexcept {
    if (!coverage_.hit_counts) return *static_cast<volatile std::uint8_t*>(p.counter);
    std::uint32_t value = *reinterpret_cast<volatile std::uint32_t*>(p.counter);
    return static_cast<std::uint8_t>(std::min<std::uint32_t>(value, 255));
}

CacheCoverageClient::CacheCoverageClient(CacheCoverageOptions coverage, InstrumenterOptions engine, DebuggerOptions debugger)
    : Instrumenter([&] {
          engine.edges = coverage.type == CoverageType::edges;
          engine.instrument_instructions = engine.instrument_instructions || coverage.compare_coverage;
          return std::move(engine);
      }(),
                   debugger),
      coverage_(coverage) {}

std::uint32_t CacheCoverageClient::module_entry(const Module& module) {
    if (!module_order_.empty() && module_order_.back() == module.path)
        return static_cast<std::uint32_t>(module_order_.size() - 1);
    auto [it, added] = modules_.try_emplace(module.path);
    if (added) {
        it->second.path = module.path;
        it->second.name = module.name;
        it->second.base = module.base;
        it->second.end = module.end;
        it->second.entry = module.entry;
        it->second.first_page_vaddr = module.base - module.load_bias;
        module_order_.push_back(module.path);
        return static_cast<std::uint32_t>(module_order_.size() - 1);
    }
    return static_cast<std::uint32_t>(std::ranges::find(module_order_, module.path) - module_order_.begin());
}

void CacheCoverageClient::add_point(BlockEmitter& emitter, pid_t pid, const Module& module, std::uint64_t offset,
                                    std::uint64_t target, std::uint32_t size) {
    if (auto it = coverage_.ignore.find(module.name);
        it != coverage_.ignore.end() && it->second.contains({offset, target}))
        return;
    TargetData data = emitter.reserve_data(coverage_.hit_counts ? 4 : 1);
    if (data.address == 0 || data.local == nullptr) return; // no room, or not readable: no point
    EmittedCode code = coverage_.hit_counts ? emitter.increment_counter(data.address) : emitter.store_byte(data.address, 1);
    std::lock_guard lock(mutex_);
    std::uint32_t index = module_entry(module);
    points_.push_back(Point{index, offset, target, size, data.local, code, pid});
    append_run(data.local);
}

void CacheCoverageClient::append_run(std::uint8_t* counter) {
    std::size_t width = counter_width();
    if (!runs_.empty() && runs_.back().first + runs_.back().count == points_.size() - 1 &&
        runs_.back().start + runs_.back().count * width == counter)
        ++runs_.back().count;
    else
        runs_.push_back(CounterRun{points_.size() - 1, counter, 1});
}

template <class Hit>
void CacheCoverageClient::scan_hits(Hit hit) const {
    std::size_t width = counter_width();
    for (const CounterRun& run : runs_) {
        std::size_t bytes = run.count * width, at = 0;
        // Eight bytes at a time over the zero stretches (most of the map for one input).
        for (; at + 8 <= bytes; at += 8) {
            std::uint64_t word;
            std::memcpy(&word, run.start + at, 8);
            if (word == 0) continue;
            for (std::size_t k = at; k < at + 8; k += width)
                if (count_of(points_[run.first + k / width]) != 0) hit(run.first + k / width);
        }
        for (std::size_t k = at; k < bytes; k += width)
            if (count_of(points_[run.first + k / width]) != 0) hit(run.first + k / width);
    }
}

void CacheCoverageClient::for_each_hit(
    const std::function<void(std::size_t index, const std::string& module, const CoveragePoint& point)>& hit) const {
    std::lock_guard lock(mutex_);
    scan_hits([&](std::size_t index) {
        const Point& p = points_[index];
        if (p.ignored) return;
        hit(index, modules_.at(module_order_[p.module]).name, CoveragePoint{p.offset, p.target, p.size, count_of(p)});
    });
}

void CacheCoverageClient::InstrumentBasicBlock(BlockEmitter& emitter, const BlockInfo& block) {
    if (coverage_.type != CoverageType::blocks) return;
    const Module& m = *block.module;
    add_point(emitter, block.pid, m, block.address - m.base, 0,
              static_cast<std::uint32_t>(std::min<std::uint64_t>(block.end - block.address, 0xffff)));
}

void CacheCoverageClient::InstrumentEdge(BlockEmitter& emitter, const EdgeInfo& edge) {
    if (coverage_.type != CoverageType::edges) return;
    const Module& m = *edge.module;
    // A destination outside the module (a call into a library) keeps its absolute address.
    std::uint64_t target = m.contains(edge.target) ? edge.target - m.base : edge.target;
    add_point(emitter, edge.pid, m, edge.source_block - m.base, target, 0);
}

void CacheCoverageClient::InstrumentInstruction(BlockEmitter& emitter, const InstructionInfo& instruction) {
    if (!coverage_.compare_coverage || !instruction.is_compare) return;
    std::uint32_t size = emitter.compare_operand_size();
    if (size < 2) return;
    const Module& m = *instruction.module;
    std::uint64_t offset = instruction.address - m.base;
    auto ignored = coverage_.ignore.find(m.name);
    // The flags first (side by side: the scans read them as one run), then the code.
    std::vector<std::uint64_t> flags;
    std::vector<std::pair<std::uint64_t, std::uint8_t*>> points;
    for (std::uint32_t k = 1; k < size; ++k) {
        TargetData data = emitter.reserve_data(counter_width()); // the flag is its low byte
        if (data.address == 0 || data.local == nullptr) return;
        flags.push_back(data.address);
        points.emplace_back(k, data.local);
    }
    EmittedCode code = emitter.compare_progress(flags);
    if (code.size == 0) return;
    std::lock_guard lock(mutex_);
    std::uint32_t index = module_entry(m);
    for (const auto& [k, local] : points) {
        if (ignored != coverage_.ignore.end() && ignored->second.contains({offset, k})) continue;
        points_.push_back(Point{index, offset, k, instruction.length, local, EmittedCode{}, instruction.pid});
        append_run(local);
    }
}

std::vector<ModuleCoverage> CacheCoverageClient::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<std::map<std::pair<std::uint64_t, std::uint64_t>, CoveragePoint>> hits(module_order_.size());
    for (const Point& p : points_) {
        if (p.ignored) continue;
        std::uint8_t count = count_of(p);
        if (count == 0) continue;
        CoveragePoint& out = hits[p.module][{p.offset, p.target}];
        out.offset = p.offset;
        out.target = p.target;
        out.size = std::max(out.size, p.size);
        out.count = std::max(out.count, count);
    }
    std::vector<ModuleCoverage> out;
    for (std::size_t i = 0; i < module_order_.size(); ++i) {
        ModuleCoverage m = modules_.at(module_order_[i]);
        for (const auto& [key, point] : hits[i]) m.points.push_back(point);
        out.push_back(std::move(m));
    }
    return out;
}

bool CacheCoverageClient::has_new_coverage() {
    std::lock_guard lock(mutex_);
    bool found = false;
    scan_hits([&](std::size_t index) {
        Point& p = points_[index];
        if (!p.acknowledged && !p.ignored) {
            p.acknowledged = true;
            found = true;
        }
    });
    return found;
}

void CacheCoverageClient::clear() {
    std::lock_guard lock(mutex_);
    for (const CounterRun& run : runs_) std::memset(run.start, 0, run.count * counter_width());
}

procscope::Expected<std::size_t> CacheCoverageClient::ignore_hit(TargetProcess& process) {
    std::lock_guard lock(mutex_);
    std::vector<EmittedCode> code;
    std::vector<Point*> chosen;
    for (Point& p : points_)
        if (!p.ignored && p.pid == process.pid() && count_of(p) != 0 && p.code.size > 0) {
            code.push_back(p.code);
            chosen.push_back(&p);
        }
    if (auto ok = remove_code(process, code); !ok) return std::unexpected(std::move(ok.error()));
    for (Point* p : chosen) p->ignored = true;
    return chosen.size();
}

Coverage CacheCoverageClient::as_block_coverage() const {
    Coverage out;
    for (const ModuleCoverage& m : snapshot()) {
        CoveredModule& c = out.modules.emplace_back();
        c.path = m.path;
        c.name = m.name;
        c.base = m.base;
        c.end = m.end;
        c.entry = m.entry;
        c.first_page_vaddr = m.first_page_vaddr;
        auto blocks = std::make_shared<BlockList>();
        for (const CoveragePoint& p : m.points) {
            blocks->starts.push_back(p.offset + m.first_page_vaddr);
            blocks->sizes.push_back(p.size);
        }
        c.hit.assign(blocks->size(), true);
        for (std::uint32_t i = 0; i < blocks->size(); ++i) c.hit_order.push_back(i);
        c.blocks = std::move(blocks);
    }
    return out;
}

} // namespace instrument
