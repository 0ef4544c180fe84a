#include "answers.hpp"

#include "procscope/hex.hpp"

namespace procsym::cli {

namespace {

ImageFacts image_facts(const symbols::Resolver& resolver, std::size_t index) {
    const symbols::Image& image = resolver.images()[index];
    ImageFacts facts{image.path, image.deleted, std::nullopt};
    if (auto bias = resolver.load_bias(index)) facts.load_bias = *bias;
    return facts;
}

} // namespace

std::vector<SymbolAnswer> look_up_symbols(symbols::Resolver& resolver, const Options& opts) {
    std::vector<SymbolAnswer> answers;
    answers.reserve(opts.symbols.size());
    for (const std::string& name : opts.symbols) {
        SymbolAnswer answer;
        answer.name = name;
        auto found = resolver.find(name, opts.image_filter);
        if (!found) {
            answer.error = found.error();
            answers.push_back(std::move(answer));
            continue;
        }
        answer.image = image_facts(resolver, found->image);
        if (auto file = resolver.image_file(found->image))
            answer.file_offset = (*file)->elf().vaddr_to_offset(found->file_vaddr);
        if (opts.read.kind != ReadKind::none) {
            auto value = read_value(resolver.memory(), found->address, opts.read);
            if (value) answer.value = std::move(*value);
            else answer.error = procscope::Error{value.error().code, name + ": cannot read the value at " +
                                                                         procscope::to_hex(found->address) + ": " +
                                                                         value.error().message};
        }
        answer.symbol = std::move(*found);
        answers.push_back(std::move(answer));
    }
    return answers;
}

std::vector<AddressAnswer> look_up_addresses(symbols::Resolver& resolver, const Options& opts) {
    std::vector<AddressAnswer> answers;
    answers.reserve(opts.addresses.size());
    for (std::uint64_t address : opts.addresses) {
        AddressAnswer answer;
        answer.address = address;
        auto resolved = resolver.symbolize(address);
        if (!resolved) {
            answer.error = resolved.error();
        } else {
            if (resolved->image) answer.image = image_facts(resolver, *resolved->image);
            answer.resolved = std::move(*resolved);
        }
        answers.push_back(std::move(answer));
    }
    return answers;
}

} // namespace procsym::cli
