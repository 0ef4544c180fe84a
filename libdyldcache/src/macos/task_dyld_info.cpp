// Built only on Apple systems (libdyldcache/CMakeLists.txt).
#include "dyldcache/macos/task_dyld_info.hpp"

#include <mach/mach.h>
#include <mach/mach_error.h>
#include <mach/mach_vm.h>

#include <algorithm>
#include <utility>

namespace dyldcache::macos {

using procscope::make_error;

namespace {

Error mach_error(kern_return_t kr, const std::string& what) {
    const ErrorCode code = kr == KERN_INVALID_ARGUMENT ? ErrorCode::no_such_process
                           : kr == KERN_FAILURE        ? ErrorCode::permission
                                                       : ErrorCode::io;
    return Error{code, what + ": " + mach_error_string(kr) + " (" + std::to_string(kr) + ")"};
}

class TaskMemoryReader final : public procmaps::MemoryReader {
public:
    explicit TaskMemoryReader(mach_port_t task) : task_(task) {}

    Expected<std::size_t> read_some(std::uint64_t addr, std::span<std::byte> out) override {
        // Whole range first; on failure fall back page by page to return the readable prefix.
        mach_vm_size_t got = 0;
        kern_return_t kr = mach_vm_read_overwrite(task_, addr, out.size(),
                                                  reinterpret_cast<mach_vm_address_t>(out.data()), &got);
        if (kr == KERN_SUCCESS && got > 0) return static_cast<std::size_t>(got);
        std::size_t done = 0;
        while (done < out.size()) {
            const std::uint64_t at = addr + done;
            const std::size_t chunk = std::min<std::size_t>(out.size() - done, vm_page_size - (at % vm_page_size));
            got = 0;
            kr = mach_vm_read_overwrite(task_, at, chunk, reinterpret_cast<mach_vm_address_t>(out.data() + done), &got);
            if (kr != KERN_SUCCESS || got == 0) break;
            done += static_cast<std::size_t>(got);
        }
        if (done == 0) return std::unexpected(mach_error(kr, "mach_vm_read_overwrite at " + std::to_string(addr)));
        return done;
    }

private:
    mach_port_t task_;
};

}  // namespace

struct Task::State {
    mach_port_t task = MACH_PORT_NULL;
    std::unique_ptr<TaskMemoryReader> memory;
    ~State() {
        if (task != MACH_PORT_NULL) mach_port_deallocate(mach_task_self(), task);
    }
};

Task::Task(std::unique_ptr<State> state) : state_(std::move(state)) {}
Task::Task(Task&&) noexcept = default;
Task& Task::operator=(Task&&) noexcept = default;
Task::~Task() = default;

Expected<Task> Task::open(pid_t pid) {
    auto state = std::make_unique<State>();
    kern_return_t kr = task_for_pid(mach_task_self(), pid, &state->task);
    if (kr != KERN_SUCCESS) return std::unexpected(mach_error(kr, "task_for_pid(" + std::to_string(pid) + ")"));
    state->memory = std::make_unique<TaskMemoryReader>(state->task);
    return Task(std::move(state));
}

Expected<TaskDyldInfo> Task::dyld_info() const {
    task_dyld_info_data_t info{};
    mach_msg_type_number_t count = TASK_DYLD_INFO_COUNT;
    kern_return_t kr = task_info(state_->task, TASK_DYLD_INFO, reinterpret_cast<task_info_t>(&info), &count);
    if (kr != KERN_SUCCESS) return std::unexpected(mach_error(kr, "task_info(TASK_DYLD_INFO)"));
    TaskDyldInfo result;
    result.all_image_info_addr = info.all_image_info_addr;
    result.all_image_info_size = info.all_image_info_size;
    result.pointer_size = info.all_image_info_format == TASK_DYLD_ALL_IMAGE_INFO_32 ? 4 : 8;
    return result;
}

procmaps::MemoryReader& Task::memory() const { return *state_->memory; }

Expected<ProcessImageList> read_process_images(pid_t pid, const SharedCache* cache) {
    auto task = Task::open(pid);
    if (!task) return std::unexpected(task.error());
    auto info = task->dyld_info();
    if (!info) return std::unexpected(info.error());
    ProcessImagesOptions options;
    options.pointer_size = info->pointer_size;
    options.cache = cache;
    return dyldcache::read_process_images(task->memory(), info->all_image_info_addr, options);
}

}  // namespace dyldcache::macos
