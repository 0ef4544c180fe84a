// One Mach-O image: header, UUID, segments with their sections, linked dylibs. Shared by
// cache images and standalone files.
#pragma once

#include <string_view>

#include "objfile/macho_file.hpp"
#include "report.hpp"

namespace dyldinfo {

// `path` is the image's install name (cache) or the file's name.
void write_image_report(Report& report, const objfile::MachOFile& macho, std::string_view path);

}  // namespace dyldinfo
