// vsappctl stp/show: the daemon's JSON (vswitchd/rpc_stp.cpp) in ovs-appctl stp/show's layout.
#include <cstdio>

#include "utilities/appctl.h"
#include "utilities/appctl_json.h"

namespace vs::utilities {
namespace {

using rapidjson::Value;

using appjson::s;
using appjson::n;
using appjson::flag;
using appjson::member;
using appjson::line;

std::string idBlock(const Value& id, long long hello, long long max_age, long long fwd) {
    std::string out = line("  stp-priority    %lld\n", n(id, "priority"));
    out += "  stp-system-id   " + s(id, "system_id") + "\n";
    out += line("  stp-hello-time  %llds\n  stp-max-age     %llds\n  stp-fwd-delay   %llds\n", hello, max_age, fwd);
    return out;
}

}  // namespace

std::string formatStpShow(const Value& result) {
    std::string out;
    auto bridges = result.FindMember("bridges");
    if (bridges == result.MemberEnd() || !bridges->value.IsArray()) return out;
    for (const auto& b : bridges->value.GetArray()) {
        if (!b.IsObject()) continue;
        out += "---- " + s(b, "name") + " ----\nRoot ID:\n";
        out += idBlock(member(b, "root_id"), n(b, "hello_time"), n(b, "max_age"), n(b, "forward_delay"));
        if (flag(b, "is_root")) {
            out += "  This bridge is the root\n";
        } else {
            out += "  root-port       " + s(b, "root_port") + "\n";
            out += line("  root-path-cost  %lld\n", n(b, "root_path_cost"));
        }
        out += "\nBridge ID:\n";
        out += idBlock(member(b, "bridge_id"), n(b, "bridge_hello_time"), n(b, "bridge_max_age"), n(b, "bridge_forward_delay"));
        if (flag(b, "topology_change")) out += "  topology change in progress\n";
        out += line("\n  %-10s %-10s %-10s %-8s %s\n", "Interface", "Role", "State", "Cost", "Pri.Nbr");
        out += "  ---------- ---------- ---------- -------- -------\n";
        auto ports = b.FindMember("ports");
        if (ports != b.MemberEnd() && ports->value.IsArray())
            for (const auto& p : ports->value.GetArray())
                if (p.IsObject()) out += line("  %-10s %-10s %-10s %-8lld %s\n", s(p, "name").c_str(), s(p, "role").c_str(),
                        s(p, "state").c_str(), n(p, "path_cost"), s(p, "port_id").c_str());
        out += "\n";
    }
    return out;
}

}  // namespace vs::utilities
