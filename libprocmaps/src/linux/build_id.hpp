// The GNU build-id of an ELF file behind a descriptor, read with a few preads.
#pragma once

#include <cstddef>
#include <vector>

namespace procmaps::linux_backend {

// Empty when the file is not ELF or carries no build-id note.
std::vector<std::byte> read_build_id(int fd);

} // namespace procmaps::linux_backend
