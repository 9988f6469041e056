// Control code of OpenFlow groups (ofproto/group.h): group_mods, the rules a deleted group takes
// with it (OpenFlow 1.3.5 section 6.5), introspection and persistence.
#include <stdexcept>

#include "ofproto/ofproto.h"

namespace vs::ofproto {

std::size_t Ofproto::applyGroupMod(const std::string& bridge, const GroupMod& gm, bool log) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    std::vector<std::uint32_t> gone = br.groups.apply(gm, clock_());
    if (log) group_log_.push_back(LoggedGroupMod{bridge, gm, flow_log_.size()});  // before its rules' deletes
    std::size_t n = 0;
    for (std::uint32_t id : gone) n += deleteGroupRules(br, id, log);
    invalidateBridge(br);
    return n;
}

// Removes every rule whose actions name `group` (mu_ held), reporting each as GROUP_DELETE.
std::size_t Ofproto::deleteGroupRules(Bridge& br, std::uint32_t group, bool log) {
    std::size_t n = 0;
    for (auto& t : br.tables) {
        if (!t) continue;
        for (auto& r : t->all()) {
            if (!usesGroup(r->actions, group)) continue;
            if (log) {  // the persisted tables lose it too
                FlowMod gone;
                gone.command = FlowMod::Command::kDeleteStrict;
                gone.table = r->table;
                gone.priority = r->priority;
                gone.match = r->match;
                flow_log_.push_back(LoggedFlowMod{br.name, std::move(gone)});
            }
            t->remove(r.get());
            noteRemoved(br, r, RemovedReason::kGroupDelete);
            ++n;
        }
    }
    return n;
}

// A flow_mod may name only groups that exist (OpenFlow 1.3.5 section 6.4: OFPBAC_BAD_OUT_GROUP).
// Deletes name nothing. mu_ held or control thread.
void Ofproto::checkGroupsExist(const Bridge& br, const std::vector<FlowMod>& mods) const {
    for (const auto& fm : mods) {
        if (fm.command == FlowMod::Command::kDelete || fm.command == FlowMod::Command::kDeleteStrict) continue;
        for (std::uint32_t id : groupsNamed(fm.actions))
            if (!br.groups.find(id))
                throw UnknownGroupError("group:" + std::to_string(id) + ": bridge " + br.name + " has no group " +
                                        std::to_string(id));
    }
}

void Ofproto::checkGroupRefs(const std::string& bridge, const std::vector<FlowMod>& mods) const {
    std::lock_guard lk(mu_);
    checkGroupsExist(bridgeOrThrow(bridge), mods);
}

std::vector<std::shared_ptr<const Group>> Ofproto::groups(const std::string& bridge) const {
    std::lock_guard lk(mu_);
    return bridgeOrThrow(bridge).groups.all();
}

// Control thread (the only writer of rules): reads the tables without the mutex, as rules().
std::map<std::uint32_t, std::uint32_t> Ofproto::groupRefCounts(const std::string& bridge) const {
    const Bridge& br = bridgeOrThrow(bridge);
    std::map<std::uint32_t, std::uint32_t> out;
    for (const auto& t : br.tables) {
        if (!t) continue;
        for (const auto& r : t->all())
            for (std::uint32_t id : groupsNamed(r->actions)) ++out[id];
    }
    return out;
}

std::vector<GroupMod> Ofproto::exportGroups(const std::string& bridge) const {
    std::lock_guard lk(mu_);
    return bridgeOrThrow(bridge).groups.exportMods();
}

// Restoring at start: the groups first (in an order where every chained group comes before the
// groups that use it), then replaceFlows() restores the rules.
void Ofproto::replaceGroups(const std::string& bridge, const std::vector<GroupMod>& adds) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    GroupTable fresh;
    std::vector<const GroupMod*> left;
    for (const auto& gm : adds) left.push_back(&gm);
    while (!left.empty()) {  // chained groups need their targets first: retry until no progress
        std::vector<const GroupMod*> next;
        std::optional<GroupModError> last;
        for (const GroupMod* gm : left) {
            try {
                fresh.apply(*gm, clock_());
            } catch (const GroupModError& e) {
                if (e.code != GroupError::kChainingUnsupported && e.code != GroupError::kBadWatch) throw;
                next.push_back(gm);
                last = e;
            }
        }
        if (next.size() == left.size()) throw *last;
        left = std::move(next);
    }
    br.groups = std::move(fresh);
    invalidateBridge(br);
}

std::vector<Ofproto::LoggedGroupMod> Ofproto::takeGroupLog() {
    std::lock_guard lk(mu_);
    return std::exchange(group_log_, {});
}

}  // namespace vs::ofproto
