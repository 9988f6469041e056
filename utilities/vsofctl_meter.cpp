// vsofctl's meter output (docs/vsofctl.md "Meters"), laid out as ovs-ofctl -O OpenFlow13 prints
// it: dump-meters (OFPST_METER_CONFIG, one meter per line), meter-stats (OFPST_METER) and
// meter-features (OFPST_METER_FEATURES). Missing members read as 0 / empty.
#include <cstdio>

#include "utilities/appctl_json.h"
#include "utilities/vsofctl_format.h"

namespace vs::utilities {
namespace {

using appjson::array;  // appctl_json.h
using appjson::u64;
std::string words(const rapidjson::Value& o, const char* k) {
    std::string s;
    if (const auto* a = array(o, k))
        for (const auto& w : a->GetArray())
            if (w.IsString()) s += std::string(s.empty() ? "" : " ") + w.GetString();
    return s;
}

}  // namespace

std::string formatMeterResult(const std::string& command, const rapidjson::Value& result) {
    std::string out;
    if (command == "dump-meters") {
        out = "OFPST_METER_CONFIG reply (OF1.3):\n";
        if (const auto* a = array(result, "meters"))
            for (const auto& m : a->GetArray())
                if (m.IsObject() && m.HasMember("text") && m["text"].IsString()) out += std::string(m["text"].GetString()) + "\n";
    } else if (command == "meter-stats") {
        out = "OFPST_METER reply (OF1.3):\n";
        if (const auto* a = array(result, "meters"))
            for (const auto& m : a->GetArray()) {
                if (!m.IsObject()) continue;
                char dur[32];
                std::snprintf(dur, sizeof dur, "%.3fs", static_cast<double>(u64(m, "duration_ms")) / 1000.0);
                out += "meter:" + std::to_string(u64(m, "meter")) + " flow_count:" + std::to_string(u64(m, "flow_count")) +
                       " packet_in_count:" + std::to_string(u64(m, "packet_in_count")) + " byte_in_count:" +
                       std::to_string(u64(m, "byte_in_count")) + " duration:" + dur + " bands:\n";
                int i = 0;
                if (const auto* bands = array(m, "bands"))
                    for (const auto& b : bands->GetArray())
                        out += std::to_string(i++) + ": packet_count:" + std::to_string(u64(b, "packet_count")) +
                               " byte_count:" + std::to_string(u64(b, "byte_count")) + "\n";
            }
    } else if (command == "meter-features" && result.IsObject()) {
        out = "OFPST_METER_FEATURES reply (OF1.3):\nmax_meter:" + std::to_string(u64(result, "max_meter")) +
              " max_bands:" + std::to_string(u64(result, "max_bands")) + " max_color:" + std::to_string(u64(result, "max_color")) +
              "\nband_types: " + words(result, "band_types") + "\ncapabilities: " + words(result, "capabilities") + "\n";
    }
    return out;  // add-meter, mod-meter, del-meter(s): silent, as ovs-ofctl
}

}  // namespace vs::utilities
