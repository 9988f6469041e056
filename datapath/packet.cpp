#include "datapath/packet.h"

#include <cstdio>

namespace vs::dp {

std::string MacAddr::toString() const {
    char s[18];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return s;
}

bool MacAddr::parse(const std::string& s, MacAddr& out) {
    unsigned v[6];
    char tail;
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
        return false;
    for (int i = 0; i < 6; ++i) out.b[i] = static_cast<std::uint8_t>(v[i]);
    return true;
}

}  // namespace vs::dp
