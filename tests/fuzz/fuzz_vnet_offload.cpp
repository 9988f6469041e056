// libFuzzer target vnet_offload: see tests/fuzz/targets/vnet_offload.h for the input format and the invariants.
#include "tests/fuzz/targets/vnet_offload.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::vnetOffload(data, size);
}
