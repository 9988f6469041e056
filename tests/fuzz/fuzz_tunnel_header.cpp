// libFuzzer target tunnel_header: see tests/fuzz/targets/tunnel_header.h for the input format and the invariants.
#include "tests/fuzz/targets/tunnel_header.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::tunnelHeader(data, size);
}
