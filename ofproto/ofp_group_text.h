// OpenFlow groups in ovs-ofctl's text syntax (ovs-ofctl(8) "Group Syntax"), the form add-group,
// mod-group, del-groups and dump-groups use and the form the daemon persists groups in:
//   group_id=ID[,type=all|select|indirect|ff|fast_failover]
//       [,bucket=[weight:W,][watch_port:PORT,][watch_group:G,][actions=]ACTION,...]...
// A select group's bucket without weight weighs 1 (as in ovs-ofctl), and printing leaves a
// select bucket's weight 1 out, as Open vSwitch's dump-groups does.
// Bucket fields also take '=' (weight=W); a bucket's actions are those of a flow's apply-actions
// (ofp_parse.h), including group:N. Printing gives Open vSwitch's dump-groups form
// ("group_id=1,type=select,bucket=weight:1,actions=output:2"), which parses back to the same mod.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "ofproto/group.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"

namespace vs::ofproto {

// One group for `cmd`. add/modify need group_id and type (default all); delete takes
// "group_id=ID" or nothing / "group_id=all" (every group, OFPG_ALL), and no buckets.
std::variant<GroupMod, ParseError> parseGroupMod(std::string_view text, GroupMod::Command cmd,
                                                 const PortResolver& resolver);
std::string formatGroup(const GroupMod& g, const PortNamer& namer);

}  // namespace vs::ofproto
