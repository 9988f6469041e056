// libFuzzer target ovsdb_transact: see tests/fuzz/targets/ovsdb_transact.h for the input format and the invariants.
#include "tests/fuzz/targets/ovsdb_transact.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return vs::fuzz::ovsdbTransact(data, size);
}
