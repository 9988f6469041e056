// libFuzzer target lacpdu: see tests/fuzz/targets/lacpdu.h for the input format and the invariants.
#include "tests/fuzz/targets/lacpdu.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::lacpdu(data, size);
}
