// ruby-version PID: the first step of a Ruby sampling profiler, with libsymbols. Finds
// `ruby_version` (a char array) and `ruby_current_vm_ptr` (a pointer to the VM) in the ruby
// process, wherever they live (libruby-X.Y.so, or the ruby executable in a static build), and
// reads them without stopping the process. A real profiler would go on from the VM to the
// threads and their stacks.
//
// Output, one "key value" per line:
//   ruby_version 3.1.7
//   image /usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1.7
//   ruby_current_vm_ptr 0x7f20877bf370
//   vm 0x5651bb56e310
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "symbols/resolver.hpp"

namespace {

int fail(const std::string& message) {
    std::fprintf(stderr, "ruby-version: %s\n", message.c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    char* end = nullptr;
    long pid = argc == 2 ? std::strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || pid <= 0 || *end != '\0') {
        std::fprintf(stderr, "usage: ruby-version PID\n");
        return 2;
    }

    auto resolver = symbols::Resolver::for_process(static_cast<pid_t>(pid));
    if (!resolver) return fail(resolver.error().message);

    // Both names are exported (.dynsym), so this works on Debian's stripped ruby too.
    auto version = resolver->find("ruby_version");
    if (!version) return fail("is this a Ruby process? " + version.error().message);
    auto text = resolver->memory().read_c_string(version->address, 64);
    if (!text) return fail("cannot read ruby_version: " + text.error().message);

    // Ruby 2.5 renamed the global VM pointer; try the older name too.
    auto vm_ptr = resolver->find("ruby_current_vm_ptr");
    if (!vm_ptr) vm_ptr = resolver->find("ruby_current_vm");
    if (!vm_ptr) return fail(vm_ptr.error().message);
    auto vm = resolver->memory().read<std::uint64_t>(vm_ptr->address);
    if (!vm) return fail("cannot read " + vm_ptr->name + ": " + vm.error().message);
    if (*vm == 0) return fail("the VM is not set up yet (ruby is starting or ending); try again");

    std::printf("ruby_version %s\n", text->c_str());
    std::printf("image %s\n", resolver->images()[version->image].path.c_str());
    std::printf("%s 0x%llx\n", vm_ptr->name.c_str(), static_cast<unsigned long long>(vm_ptr->address));
    std::printf("vm 0x%llx\n", static_cast<unsigned long long>(*vm));
    return 0;
}
