#include "region_json.hpp"

#include <array>

#include "json_text.hpp"

namespace procmaps::cli {

namespace {

char* put(char* out, std::string_view text) { return std::copy(text.begin(), text.end(), out); }

char* write_rwx(char* out, Perms perms) {
    out[0] = perms.readable() ? 'r' : '-';
    out[1] = perms.writable() ? 'w' : '-';
    out[2] = perms.executable() ? 'x' : '-';
    return out + 3;
}

void write_stats_json(OutputBuffer& out, const RegionStats& s) {
    const std::array<std::pair<std::string_view, std::uint64_t>, 22> fields{{
        {R"("rss":)", s.rss},
        {R"("pss":)", s.pss},
        {R"("pss_dirty":)", s.pss_dirty},
        {R"("shared_clean":)", s.shared_clean},
        {R"("shared_dirty":)", s.shared_dirty},
        {R"("private_clean":)", s.private_clean},
        {R"("private_dirty":)", s.private_dirty},
        {R"("dirty":)", s.dirty()},
        {R"("referenced":)", s.referenced},
        {R"("anonymous":)", s.anonymous},
        {R"("ksm":)", s.ksm},
        {R"("lazy_free":)", s.lazy_free},
        {R"("anon_huge_pages":)", s.anon_huge_pages},
        {R"("shmem_pmd_mapped":)", s.shmem_pmd_mapped},
        {R"("file_pmd_mapped":)", s.file_pmd_mapped},
        {R"("shared_hugetlb":)", s.shared_hugetlb},
        {R"("private_hugetlb":)", s.private_hugetlb},
        {R"("swap":)", s.swap},
        {R"("swap_pss":)", s.swap_pss},
        {R"("locked":)", s.locked},
        {R"("kernel_page_size":)", s.kernel_page_size},
        {R"("mmu_page_size":)", s.mmu_page_size},
    }};
    out.append(R"(,"stats":{)");
    for (const auto& [key, value] : fields) {
        write_json_number(out, key, value);
        out.append(',');
    }
    out.append(s.thp_eligible ? R"("thp_eligible":true})" : R"("thp_eligible":false})");
}

} // namespace

void write_region_json(OutputBuffer& out, const Region& r, const RegionStats* stats) {
    write_json_hex(out, R"({"start":)", r.start);
    write_json_hex(out, R"(,"end":)", r.end);
    write_json_number(out, R"(,"size":)", r.size());
    out.append(R"(,"kind":")");
    out.append(to_string(r.kind));
    char* p = out.reserve(128);
    p = put(p, R"(","perms":")");
    p = write_rwx(p, r.perms);
    p = put(p, R"(","shared":)");
    p = r.perms.is_shared() ? put(p, "true") : put(p, "false");
    p = put(p, R"(,"max_perms":)");
    if (r.has_max_perms) {
        *p++ = '"';
        p = write_rwx(p, r.max_perms);
        *p++ = '"';
    } else {
        p = put(p, "null");
    }
    out.commit(p);
    write_json_hex(out, R"(,"offset":)", r.offset);
    p = out.reserve(64);
    p = put(p, R"(,"dev":")");
    p = write_hex(p, r.dev_major, std::max(2, hex_digits(r.dev_major)));
    *p++ = ':';
    p = write_hex(p, r.dev_minor, std::max(2, hex_digits(r.dev_minor)));
    *p++ = '"';
    out.commit(p);
    write_json_number(out, R"(,"inode":)", r.inode);
    out.append(r.deleted ? R"(,"deleted":true,"path":)" : R"(,"deleted":false,"path":)");
    write_json_string(out, r.path);
    if (stats) write_stats_json(out, *stats);
    out.append('}');
}

void write_listing_json(OutputBuffer& out, const SourceInfo& source, const RegionSelection& rows) {
    const RegionList& list = rows.list();
    const bool stats = list.has_stats();
    out.append(R"({"schema":"procmaps/1",)");
    write_source_json(out, source);
    out.append(stats ? R"(,"has_stats":true)" : R"(,"has_stats":false)");
    out.append(rows.filtered() ? R"(,"filtered":true,"regions":[)" : R"(,"filtered":false,"regions":[)");
    bool first = true;
    rows.for_each([&](std::size_t i) {
        out.append(first ? "\n" : ",\n");
        first = false;
        write_region_json(out, list[i], stats ? &list.stats()[i] : nullptr);
    });
    SelectionTotals t = rows.totals();
    out.append("\n],\"totals\":{");
    write_json_number(out, R"("regions":)", t.regions);
    write_json_number(out, R"(,"virtual_size":)", t.virtual_size);
    if (stats) {
        write_json_number(out, R"(,"rss":)", t.rss);
        write_json_number(out, R"(,"pss":)", t.pss);
        write_json_number(out, R"(,"dirty":)", t.dirty);
        write_json_number(out, R"(,"swap":)", t.swap);
    }
    out.append("}}\n");
}

} // namespace procmaps::cli
