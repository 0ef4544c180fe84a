// Everything libprocmaps offers, in one include.
#pragma once

#include "procmaps/core_file.hpp"
#include "procmaps/maps_parser.hpp"
#include "procmaps/memory_reader.hpp"
#include "procmaps/process.hpp"
#include "procmaps/region.hpp"
#include "procmaps/region_list.hpp"
#include "procmaps/region_query.hpp"
#include "procmaps/region_stats.hpp"
#include "procmaps/summary.hpp"
