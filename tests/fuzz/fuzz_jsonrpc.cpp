// libFuzzer target jsonrpc: see tests/fuzz/targets/jsonrpc.h for the input format and the invariants.
#include "tests/fuzz/targets/jsonrpc.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::jsonRpc(data, size);
}
