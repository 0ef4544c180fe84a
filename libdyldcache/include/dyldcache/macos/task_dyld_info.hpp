// macOS glue for process_images.hpp: the task port of a process, its memory, and where dyld
// keeps dyld_all_image_infos (task_info TASK_DYLD_INFO). Needs task_for_pid rights (root, or
// the com.apple.security.cs.debugger entitlement, and a target that allows it).
#pragma once

#if defined(__APPLE__)

#include <memory>
#include <sys/types.h>

#include "dyldcache/process_images.hpp"

namespace dyldcache::macos {

struct TaskDyldInfo {
    std::uint64_t all_image_info_addr = 0;
    std::uint64_t all_image_info_size = 0;
    unsigned pointer_size = 8;  // from all_image_info_format
};

// The task port of `pid` as a MemoryReader (mach_vm_read_overwrite), plus its dyld info.
class Task {
public:
    static Expected<Task> open(pid_t pid);
    Task(Task&&) noexcept;
    Task& operator=(Task&&) noexcept;
    ~Task();

    Expected<TaskDyldInfo> dyld_info() const;
    procmaps::MemoryReader& memory() const;

    struct State;

private:
    explicit Task(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// open(pid), dyld_info(), then read_process_images() on its memory.
Expected<ProcessImageList> read_process_images(pid_t pid, const SharedCache* cache = nullptr);

}  // namespace dyldcache::macos

#endif
