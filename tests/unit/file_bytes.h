// Whole-file reads and writes for the store's unit tests (config_store_test, flow_journal_test).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vs::test {

inline std::string readBytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void writeBytes(const std::filesystem::path& p, const std::string& s) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << s;
}

}  // namespace vs::test
