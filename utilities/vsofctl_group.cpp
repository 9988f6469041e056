// vsofctl's group output (docs/vsofctl.md "Groups"), laid out as ovs-ofctl -O OpenFlow13 prints
// it (without the xid): dump-groups (OFPST_GROUP_DESC, one group per line in the syntax add-group
// takes) and dump-group-stats (OFPST_GROUP). Missing members read as 0 / empty.
#include <cstdio>

#include "utilities/appctl_json.h"
#include "utilities/vsofctl_format.h"

namespace vs::utilities {
namespace {

using appjson::array;  // appctl_json.h
using appjson::u64;

// " group_id=1,duration=2.310s,ref_count=1,packet_count=5,byte_count=300,bucket0:packet_count=5,byte_count=300"
std::string statsLine(const rapidjson::Value& g) {
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.3fs", static_cast<double>(u64(g, "duration_ms")) / 1000.0);
    std::string s = " group_id=" + std::to_string(u64(g, "group_id")) + ",duration=" + dur +
                    ",ref_count=" + std::to_string(u64(g, "ref_count")) + ",packet_count=" +
                    std::to_string(u64(g, "packet_count")) + ",byte_count=" + std::to_string(u64(g, "byte_count"));
    int i = 0;
    if (const auto* buckets = array(g, "buckets"))
        for (const auto& b : buckets->GetArray())
            s += ",bucket" + std::to_string(i++) + ":packet_count=" + std::to_string(u64(b, "packet_count")) +
                 ",byte_count=" + std::to_string(u64(b, "byte_count"));
    return s + "\n";
}

}  // namespace

std::string formatGroupResult(const std::string& command, const rapidjson::Value& result) {
    std::string out;
    const auto* groups = array(result, "groups");
    if (command == "dump-groups") {
        out = "OFPST_GROUP_DESC reply (OF1.3):\n";
        if (groups)
            for (const auto& g : groups->GetArray())
                if (g.IsObject() && g.HasMember("text") && g["text"].IsString()) out += std::string(" ") + g["text"].GetString() + "\n";
    } else if (command == "dump-group-stats") {
        out = "OFPST_GROUP reply (OF1.3):\n";
        if (groups)
            for (const auto& g : groups->GetArray()) out += statsLine(g);
    }
    return out;  // add-group(s), mod-group, del-groups: silent, as ovs-ofctl
}

}  // namespace vs::utilities
