// Everything libsymbols offers, in one include.
#pragma once

#include "symbols/debug_files.hpp"
#include "symbols/file_cache.hpp"
#include "symbols/image.hpp"
#include "symbols/image_file.hpp"
#include "symbols/load_bias.hpp"
#include "symbols/memory_build_id.hpp"
#include "symbols/resolver.hpp"
