// dyldinfo on a standalone Mach-O file (thin, or one slice of a fat file): the image views.
#pragma once

#include "objfile/macho_file.hpp"
#include "report.hpp"

namespace dyldinfo {

procscope::Expected<void> write_macho_views(Report& report, const objfile::MachOFile& macho);

}  // namespace dyldinfo
