// libFuzzer target vxlan_decap: see tests/fuzz/targets/vxlan_decap.h for the input format and the invariants.
#include "tests/fuzz/targets/vxlan_decap.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::vxlanDecap(data, size);
}
