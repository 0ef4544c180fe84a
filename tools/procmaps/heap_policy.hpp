// How the tool's heap gets its memory from the kernel.
#pragma once

namespace procmaps::cli {

// Serves the heap from transparent huge pages where the kernel allows it (THP "always" or
// "madvise"): a 60,000-region listing allocates ~10 MB, which in 4 KiB pages costs ~3,800
// page faults (a fifth of the run); in 2 MiB pages, a handful. The price is up to 2 MiB of
// resident memory per partly used block, so -x (whose cost is the kernel's smaps text, and
// whose memory is larger) does without. Harmless where THP is off. Call before any large
// allocation.
void prefer_huge_pages() noexcept;

} // namespace procmaps::cli
