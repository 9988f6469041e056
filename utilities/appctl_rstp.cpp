// vsappctl rstp/show: the daemon's JSON (vswitchd/rpc_rstp.cpp) in ovs-appctl rstp/show's layout.
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

std::string times(const Value& b) {
    return line("  Hello Time  %llds\n  Max Age     %llds\n  Forward Delay %llds\n", n(b, "hello_time"), n(b, "max_age"),
                n(b, "forward_delay"));
}

}  // namespace

std::string formatRstpShow(const Value& result) {
    std::string out;
    auto bridges = result.FindMember("bridges");
    if (bridges == result.MemberEnd() || !bridges->value.IsArray()) return out;
    for (const auto& b : bridges->value.GetArray()) {
        if (!b.IsObject()) continue;
        const Value& root = member(b, "root_id");
        const Value& self = member(b, "bridge_id");
        out += "---- " + s(b, "name") + " ----\nRoot ID:\n";
        out += line("  priority    %lld\n", n(root, "priority")) + "  address     " + s(root, "address") + "\n";
        if (flag(b, "is_root")) {
            out += "  This bridge is the root\n";
        } else {
            out += "  port        " + s(b, "root_port") + "\n";
            out += line("  path cost   %lld\n", n(b, "root_path_cost"));
        }
        out += times(b);
        out += "\nBridge ID:\n";
        out += line("  priority    %lld\n", n(self, "priority")) + "  address     " + s(self, "address") + "\n";
        out += times(b);
        out += line("\n  %-10s %-10s %-10s %-8s %s\n", "Interface", "Role", "State", "Cost", "Pri.Nbr");
        out += "  ---------- ---------- ---------- -------- -------\n";
        auto ports = b.FindMember("ports");
        if (ports != b.MemberEnd() && ports->value.IsArray())
            for (const auto& p : ports->value.GetArray())
                if (p.IsObject())
                    out += line("  %-10s %-10s %-10s %-8lld %s\n", s(p, "name").c_str(), s(p, "role").c_str(),
                                s(p, "state").c_str(), n(p, "path_cost"), s(p, "port_id").c_str());
        out += "\n";
    }
    return out;
}

}  // namespace vs::utilities
