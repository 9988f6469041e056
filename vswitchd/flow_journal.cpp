#include "vswitchd/flow_journal.h"

#include <stdexcept>

#include "ofproto/ofp_group_text.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "vswitchd/log.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kConfig;  // vlog/set module
}

namespace vs::vswitchd {
namespace {

using Command = ofproto::FlowMod::Command;

constexpr std::pair<Command, const char*> kCommands[] = {
    {Command::kAdd, "add"},       {Command::kModify, "modify"},        {Command::kModifyStrict, "modify_strict"},
    {Command::kDelete, "delete"}, {Command::kDeleteStrict, "delete_strict"},
};

// Group mods ride in the same journal (docs/controller.md "Groups"): their commands, and their
// text in ovs-ofctl's group syntax (ofproto/ofp_group_text.h).
using GroupCommand = ofproto::GroupMod::Command;
constexpr std::pair<GroupCommand, const char*> kGroupCommands[] = {
    {GroupCommand::kAdd, "group_add"}, {GroupCommand::kModify, "group_modify"}, {GroupCommand::kDelete, "group_delete"},
};
bool isGroupCommand(const std::string& name) {
    for (const auto& [c, n] : kGroupCommands)
        if (name == n) return true;
    return false;
}
GroupCommand groupCommandNamed(const std::string& name) {
    for (const auto& [c, n] : kGroupCommands)
        if (name == n) return c;
    throw std::invalid_argument("unknown group_mod command " + name);
}
// A persisted group line (flows file) starts with its id; rules never do.
bool isGroupLine(const std::string& line) { return line.rfind("group_id=", 0) == 0; }

Command commandNamed(const std::string& name) {
    for (const auto& [c, n] : kCommands)
        if (name == n) return c;
    throw std::invalid_argument("unknown flow_mod command " + name);
}

// Applies a run of consecutive events' flow_mods on one bridge at once (a 100,000-rule add-flows
// replays as one batch, as it was applied).
class Replayer {
public:
    Replayer(ofproto::Ofproto& of, const std::string& source) : of_(of), source_(source) {}
    void add(const FlowEvent& e) {
        if (isGroupCommand(e.command)) return group(e);
        if (e.bridge != bridge_) flush();
        bridge_ = e.bridge;
        auto parsed = ofproto::parseFlowMod(e.text, commandNamed(e.command), {});
        if (auto* err = std::get_if<ofproto::ParseError>(&parsed)) throw corrupt(e.bridge, err->message);
        pending_.push_back(std::move(std::get<ofproto::FlowMod>(parsed)));
    }
    void flush() {
        if (pending_.empty()) return;
        try {
            of_.applyFlowMods(bridge_, pending_);
        } catch (const std::invalid_argument& e) {
            throw corrupt(bridge_, e.what());
        }
        pending_.clear();
    }
    // A group_mod (journaledGroupMod): the flow_mods before it first, in order.
    void group(const FlowEvent& e) {
        flush();
        auto parsed = ofproto::parseGroupMod(e.text, groupCommandNamed(e.command), {});
        if (auto* err = std::get_if<ofproto::ParseError>(&parsed)) throw corrupt(e.bridge, err->message);
        try {
            of_.applyGroupMod(e.bridge, std::get<ofproto::GroupMod>(parsed));
        } catch (const std::invalid_argument& ex) {
            throw corrupt(e.bridge, ex.what());
        }
    }
    ConfigError corrupt(const std::string& bridge, const std::string& why) const {
        return ConfigError(source_ + " is corrupt: bridge " + bridge + ": " + why +
                           "; refusing to start (the files are left in place)");
    }

private:
    ofproto::Ofproto& of_;
    std::string source_;
    std::string bridge_;
    std::vector<ofproto::FlowMod> pending_;
};

}  // namespace

bool isFlowCommandName(const std::string& name) {
    for (const auto& [c, n] : kCommands)
        if (name == n) return true;
    return isGroupCommand(name);
}

std::string flowCommandName(Command c) {
    for (const auto& [cmd, n] : kCommands)
        if (cmd == c) return n;
    return "add";
}

JournaledFlowMod journaledFlowMod(const std::string& bridge, const ofproto::FlowMod& fm) {
    return JournaledFlowMod{bridge, flowCommandName(fm.command), ofproto::formatFlowMod(fm, {})};
}

JournaledFlowMod journaledGroupMod(const std::string& bridge, const ofproto::GroupMod& gm) {
    std::string text = gm.command != GroupCommand::kDelete ? ofproto::formatGroup(gm, {})
                       : gm.group_id == ofproto::kGroupAll ? std::string("group_id=all")
                                                           : "group_id=" + std::to_string(gm.group_id);
    for (const auto& [c, n] : kGroupCommands)
        if (c == gm.command) return JournaledFlowMod{bridge, n, text};
    return JournaledFlowMod{bridge, "group_add", text};
}

void restoreFlowTables(ofproto::Ofproto& of, const ConfigStore& store) {
    const std::string file = "flows file " + store.path().string() + ".flows";
    for (const auto& [bridge, all_lines] : store.restoredFlows().bridges) {
        if (!of.hasBridge(bridge)) continue;
        std::vector<std::string> lines;
        std::vector<ofproto::GroupMod> groups;  // first: rules may name them
        for (const auto& l : all_lines) {
            if (!isGroupLine(l)) {
                lines.push_back(l);
                continue;
            }
            auto g = ofproto::parseGroupMod(l, GroupCommand::kAdd, {});
            if (auto* e = std::get_if<ofproto::ParseError>(&g))
                throw ConfigError(file + " is corrupt: bridge " + bridge + ": " + e->message +
                                  "; refusing to start (the file is left in place)");
            groups.push_back(std::get<ofproto::GroupMod>(g));
        }
        try {
            of.replaceGroups(bridge, groups);
        } catch (const std::invalid_argument& e) {
            throw ConfigError(file + " is corrupt: bridge " + bridge + ": " + e.what() +
                              "; refusing to start (the file is left in place)");
        }
        auto parsed = ofproto::parseFlowLines(lines, Command::kAdd, {});
        if (auto* e = std::get_if<ofproto::ParseError>(&parsed))
            throw ConfigError(file + " is corrupt: bridge " + bridge + ": " + e->message +
                              "; refusing to start (the file is left in place)");
        of.replaceFlows(bridge, std::get<std::vector<ofproto::FlowMod>>(parsed));
        log::info(kLog, "restored {} rules on bridge {}", lines.size(), bridge);
    }
    Replayer replay(of, "config journal " + store.path().string() + ".journal");
    std::size_t n = 0;
    for (const auto& e : store.restoredFlowEvents()) {
        if (!of.hasBridge(e.bridge)) continue;
        ++n;
        if (e.kind == FlowEvent::Kind::kMod) {
            replay.add(e);
            continue;
        }
        replay.flush();
        std::vector<ofproto::FlowMod> rules;
        if (e.keep_normal) rules.push_back(ofproto::defaultNormalRule());
        of.replaceFlows(e.bridge, rules);
        of.replaceGroups(e.bridge, {});  // a flush takes the groups too (controller.cpp)
    }
    replay.flush();
    if (n) log::info(kLog, "replayed {} flow table changes from the journal", n);
}

FlowLines exportFlowTables(const ofproto::Ofproto& of, const Config& cfg) {
    FlowLines all;
    for (const auto& [bridge, bc] : cfg.bridges) {
        if (!of.hasBridge(bridge)) continue;
        auto& lines = all[bridge];
        for (const auto& gm : of.exportGroups(bridge)) lines.push_back(ofproto::formatGroup(gm, {}));
        for (const auto& fm : of.exportFlows(bridge)) lines.push_back(ofproto::formatFlowMod(fm, {}));
    }
    return all;
}

}  // namespace vs::vswitchd
