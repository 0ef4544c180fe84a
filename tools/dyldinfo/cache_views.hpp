// The views of a dyld shared cache.
#pragma once

#include "dyldcache/shared_cache.hpp"
#include "report.hpp"

namespace dyldinfo {

void write_cache_summary(Report& report, const dyldcache::SharedCache& cache);
void write_image_list(Report& report, const dyldcache::SharedCache& cache);
void write_mapping_list(Report& report, const dyldcache::SharedCache& cache);
procscope::Expected<void> write_slide_report(Report& report, const dyldcache::SharedCache& cache);
procscope::Expected<void> write_cache_image(Report& report, const dyldcache::SharedCache& cache);
procscope::Expected<void> write_cache_symbols(Report& report, const dyldcache::SharedCache& cache);
procscope::Expected<void> write_cache_lookups(Report& report, const dyldcache::SharedCache& cache);
procscope::Expected<void> write_cache_addresses(Report& report, const dyldcache::SharedCache& cache);
procscope::Expected<void> write_cache_pointer(Report& report, const dyldcache::SharedCache& cache);

}  // namespace dyldinfo
