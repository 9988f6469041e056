// The action list of the flow syntax ("actions=...", ovs-actions(7)) -> ActionList
// (ofp_parse_detail.h). OpenFlow 1.3 section 5.12 (actions), 7.2.5 (action structures; a
// set-field needs the prerequisites of the field it writes), 5.9 (goto_table: a later table).
#include "ofproto/meter.h"
#include <cctype>

#include "ofproto/ofp_parse_detail.h"
#include "ofproto/queue.h"

namespace vs::ofproto::parse_detail {
namespace {

struct Item {
    std::string_view text;  // the whole action, trimmed
    std::size_t offset = 0;
    std::string_view name;
    std::string_view arg;
    bool hasArg = false;
    bool paren = false;     // name(arg) form
};

std::string_view trim(std::string_view s, std::size_t& offset) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1), ++offset;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

Item makeItem(std::string_view text, std::size_t offset) {
    Item it;
    it.text = text;
    it.offset = offset;
    const std::size_t d = text.find_first_of(":(");
    it.name = text.substr(0, d);
    if (d == std::string_view::npos) return it;
    it.hasArg = true;
    if (text[d] == ':') {
        it.arg = text.substr(d + 1);
        return it;
    }
    it.paren = true;
    if (text.back() != ')') fail(std::string(text) + ": expected ')' at the end", offset, text);
    it.arg = text.substr(d + 1, text.size() - d - 2);
    return it;
}

// Splits on commas outside parentheses.
std::vector<Item> splitActions(std::string_view text, std::size_t offset) {
    std::vector<Item> items;
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        const char c = i < text.size() ? text[i] : ',';
        if (c == '(') ++depth;
        if (c == ')' && --depth < 0) fail("unbalanced ')' in actions", offset + i, text.substr(i, 1));
        if (c != ',' || (depth > 0 && i < text.size())) continue;
        if (depth > 0) fail("missing ')' in actions", offset + start, text.substr(start));
        std::size_t itemOffset = offset + start;
        std::string_view item = trim(text.substr(start, i - start), itemOffset);
        if (item.empty()) fail("empty action in list", itemOffset, item);
        if (item.find_first_of(" \t") != std::string_view::npos)
            fail("unexpected space in action '" + std::string(item) + "' (actions= must be the last field of a flow)",
                 itemOffset, item);
        items.push_back(makeItem(item, itemOffset));
        start = i + 1;
    }
    return items;
}

[[noreturn]] void bad(const Item& it, std::string_view problem) {
    fail(std::string(it.text) + ": " + std::string(problem), it.offset, it.text);
}

std::uint64_t number(const Item& it, std::string_view text, std::uint64_t max) {
    auto v = parseNumber(text);
    if (!v) bad(it, "invalid number '" + std::string(text) + "'");
    if (*v > max) bad(it, "out of range (0.." + std::to_string(max) + ")");
    return *v;
}

Action simple(ActionType type) {
    Action a;
    a.type = type;
    return a;
}

Action setField(Field field, std::uint64_t value) {
    Action a = simple(ActionType::kSetField);
    a.field = field;
    a.value = value;
    return a;
}

struct SetFieldSpec {
    std::string_view name;
    Field field;
    Prereq prereq;
    std::uint64_t max;  // numeric fields
};

constexpr SetFieldSpec kSetFields[] = {
    {"eth_src", Field::kEthSrc, Prereq::kNone, 0},       {"dl_src", Field::kEthSrc, Prereq::kNone, 0},
    {"eth_dst", Field::kEthDst, Prereq::kNone, 0},       {"dl_dst", Field::kEthDst, Prereq::kNone, 0},
    {"vlan_vid", Field::kVlanVid, Prereq::kNone, 0x1fff}, {"dl_vlan", Field::kVlanVid, Prereq::kNone, 0x1fff},
    {"vlan_pcp", Field::kVlanPcp, Prereq::kNone, 7},     {"dl_vlan_pcp", Field::kVlanPcp, Prereq::kNone, 7},
    {"ip_src", Field::kIpv4Src, Prereq::kIpv4, 0},       {"ipv4_src", Field::kIpv4Src, Prereq::kIpv4, 0},
    {"nw_src", Field::kIpv4Src, Prereq::kIpv4, 0},       {"ip_dst", Field::kIpv4Dst, Prereq::kIpv4, 0},
    {"ipv4_dst", Field::kIpv4Dst, Prereq::kIpv4, 0},     {"nw_dst", Field::kIpv4Dst, Prereq::kIpv4, 0},
    {"ip_dscp", Field::kIpTos, Prereq::kIpAny, 63},      {"nw_tos", Field::kIpTos, Prereq::kIpAny, 0xff},
    {"nw_ttl", Field::kIpTtl, Prereq::kIpAny, 0xff},     {"ip_ttl", Field::kIpTtl, Prereq::kIpAny, 0xff},
    {"tp_src", Field::kTpSrc, Prereq::kTransport, 0xffff}, {"tp_dst", Field::kTpDst, Prereq::kTransport, 0xffff},
    {"tcp_src", Field::kTpSrc, Prereq::kTcp, 0xffff},    {"tcp_dst", Field::kTpDst, Prereq::kTcp, 0xffff},
    {"udp_src", Field::kTpSrc, Prereq::kUdp, 0xffff},    {"udp_dst", Field::kTpDst, Prereq::kUdp, 0xffff},
    {"sctp_src", Field::kTpSrc, Prereq::kSctp, 0xffff},  {"sctp_dst", Field::kTpDst, Prereq::kSctp, 0xffff},
    {"tun_id", Field::kTunId, Prereq::kNone, UINT64_MAX}, {"tunnel_id", Field::kTunId, Prereq::kNone, UINT64_MAX},
    {"metadata", Field::kMetadata, Prereq::kNone, UINT64_MAX},
    {"tun_dst", Field::kTunDst, Prereq::kNone, 0},        {"tunnel_dst", Field::kTunDst, Prereq::kNone, 0},
};

class ActionParser {
public:
    ActionParser(const Match& match, std::uint8_t table, const PortResolver& resolver)
        : match_(match), table_(table), resolver_(resolver) {
        vlanTagged_ = (match.mask.vlan_tci & dp::kVlanCfi) && (match.key.vlan_tci & dp::kVlanCfi);
    }

    ActionList parse(std::string_view text, std::size_t offset);

private:
    void writeActions(const Item& it, ActionList& out);
    Action parseItem(const Item& it);
    std::optional<Action> keyword(const Item& it, const std::string& name);
    std::optional<Action> vlanAction(const Item& it, const std::string& name);
    std::optional<Action> modAction(const Item& it, const std::string& name);
    Action output(const Item& it, std::string_view portText);
    Action controller(const Item& it);
    Action resubmit(const Item& it);
    Action gotoTable(const Item& it);
    Action setFieldAction(const Item& it);
    Action queueAction(const Item& it, const std::string& name);
    Action setFieldValue(const Item& it, const SetFieldSpec& spec, std::string_view value);
    void require(const Item& it, std::string_view what, Prereq prereq) const;
    std::uint32_t port(const Item& it, std::string_view text) const;

    const Match& match_;
    std::uint8_t table_;
    const PortResolver& resolver_;
    bool vlanTagged_ = false;  // a VLAN tag is known present at this point of the list
};

ActionList ActionParser::parse(std::string_view text, std::size_t offset) {
    std::size_t start = offset;
    text = trim(text, start);
    if (text.empty()) return {simple(ActionType::kDrop)};
    const std::vector<Item> items = splitActions(text, start);
    ActionList out;
    // OpenFlow 1.3 section 5.9: the instructions apply-actions, clear-actions, write-actions and
    // goto-table, at most one of each, in this order (Open vSwitch refuses another order).
    int stage = 0;  // 0: apply-actions, 1: after clear_actions, 2: after write_actions
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string name = lower(items[i].name);
        if (name == "clear_actions" || name == "write_actions") {
            const int want = name == "clear_actions" ? 1 : 2;
            if (stage >= want)
                fail("'" + name + "' must come once, " + (want == 1 ? "before write_actions" : "after clear_actions"),
                     items[i].offset, items[i].text);
            stage = want;
            if (want == 1) {
                if (items[i].hasArg) bad(items[i], "'clear_actions' takes no argument");
                out.push_back(simple(ActionType::kClearActions));
            } else {
                writeActions(items[i], out);
            }
            continue;
        }
        Action a = parseItem(items[i]);
        if (stage > 0 && a.type != ActionType::kGotoTable)
            fail("'" + std::string(items[i].text) + "' must come before clear_actions and write_actions "
                 "(apply-actions are the first instruction)", items[i].offset, items[i].text);
        if (a.type == ActionType::kMeter && i != 0)
            fail("'" + std::string(items[i].text) + "' must be the first instruction (OpenFlow 1.3 section 5.9)",
                 items[i].offset, items[i].text);
        if (a.type == ActionType::kDrop && items.size() > 1)
            fail("'drop' must be the only action", items[i].offset, items[i].text);
        if (a.type == ActionType::kGotoTable && i + 1 < items.size())
            fail("'" + std::string(items[i].text) + "' must be the last action (goto_table is an instruction)",
                 items[i].offset, items[i].text);
        out.push_back(a);
    }
    return out;
}

// write_actions(A,B,...): a kWriteActions marker counting the actions that follow it. An action
// set holds what OpenFlow 1.3 section 5.10 lists (Open vSwitch's ofpact_is_allowed_in_actions_set):
// outputs, set-field and its older spellings, push/pop VLAN, dec_ttl.
void ActionParser::writeActions(const Item& it, ActionList& out) {
    if (!it.paren) bad(it, "expected write_actions(ACTIONS)");
    std::size_t start = it.offset + it.text.find('(') + 1;
    std::string_view arg = trim(it.arg, start);
    Action marker = simple(ActionType::kWriteActions);
    std::size_t at = out.size();
    out.push_back(marker);
    if (arg.empty()) return;
    for (const Item& n : splitActions(arg, start)) {
        Action a = parseItem(n);
        switch (a.type) {
            case ActionType::kOutput: case ActionType::kNormal: case ActionType::kFlood: case ActionType::kAll:
            case ActionType::kInPort: case ActionType::kLocal: case ActionType::kSetField:
            case ActionType::kSetVlanVid: case ActionType::kSetVlanPcp: case ActionType::kStripVlan:
            case ActionType::kPushVlan: case ActionType::kDecTtl: case ActionType::kSetQueue:
            case ActionType::kGroup:
                break;
            default:
                fail("'" + std::string(n.text) + "' is not allowed in write_actions (an action set holds outputs, "
                     "set_field, push_vlan, pop_vlan, dec_ttl and set_queue; OpenFlow 1.3 section 5.10)", n.offset, n.text);
        }
        out.push_back(a);
        ++out[at].value;
    }
}

void ActionParser::require(const Item& it, std::string_view what, Prereq prereq) const {
    if (!prereqMet(match_, prereq))
        fail(std::string(what) + " " + std::string(prereqText(prereq)) + " in the match", it.offset, it.text);
}

std::uint32_t ActionParser::port(const Item& it, std::string_view text) const {
    std::string problem;
    auto p = lookupPort(text, resolver_, problem);
    if (!p) bad(it, problem);
    return *p;
}

Action ActionParser::parseItem(const Item& it) {
    const std::string name = lower(it.name);
    if (auto a = keyword(it, name)) return *a;
    if (auto a = vlanAction(it, name)) return *a;
    if (auto a = modAction(it, name)) return *a;
    if (name == "output") {
        if (!it.hasArg || it.paren) bad(it, "expected output:PORT");
        return output(it, it.arg);
    }
    if (name == "resubmit") return resubmit(it);
    if (name == "goto_table") return gotoTable(it);
    if (name == "set_field") return setFieldAction(it);
    if (name == "set_queue" || name == "enqueue") return queueAction(it, name);
    if (name == "group") {  // group:GROUP_ID (OFPAT_GROUP; ofproto/group.h)
        if (!it.hasArg || it.paren) bad(it, "expected group:GROUP_ID");
        Action a = simple(ActionType::kGroup);
        a.value = number(it, it.arg, 0xffffff00);
        return a;
    }
    if (name == "meter") {  // meter:METER_ID (ovs-ofctl(8)), ids 1..OFPM_MAX
        if (!it.hasArg || it.paren) bad(it, "expected meter:METER_ID");
        Action a = simple(ActionType::kMeter);
        a.value = number(it, it.arg, kMaxMeterId);
        if (a.value == 0) bad(it, "meter ids start at 1");
        return a;
    }
    if (!it.hasArg) {  // a bare port name or number: output (as ovs-ofctl)
        std::string problem;
        if (lookupPort(it.text, resolver_, problem)) return output(it, it.text);
        if (parseNumber(it.text)) bad(it, problem);
        fail("unknown action or port '" + std::string(it.text) + "'", it.offset, it.text);
    }
    fail("unknown action '" + std::string(it.text) + "'", it.offset, it.text);
}

std::optional<Action> ActionParser::keyword(const Item& it, const std::string& name) {
    struct Word {
        std::string_view name;
        ActionType type;
    };
    static constexpr Word kWords[] = {
        {"drop", ActionType::kDrop},   {"normal", ActionType::kNormal},       {"flood", ActionType::kFlood},
        {"all", ActionType::kAll},     {"in_port", ActionType::kInPort},      {"local", ActionType::kLocal},
        {"dec_ttl", ActionType::kDecTtl}, {"strip_vlan", ActionType::kStripVlan}, {"pop_vlan", ActionType::kStripVlan},
        {"pop_queue", ActionType::kPopQueue},
    };
    if (name == "controller") return controller(it);
    for (const auto& w : kWords) {
        if (w.name != name) continue;
        if (it.hasArg) bad(it, "'" + std::string(it.name) + "' takes no argument");
        if (w.type == ActionType::kStripVlan) vlanTagged_ = false;
        return simple(w.type);
    }
    return std::nullopt;
}

Action ActionParser::output(const Item& it, std::string_view portText) {
    const std::uint32_t p = port(it, portText);
    Action a;
    switch (p) {
        case kPortNormal: return simple(ActionType::kNormal);
        case kPortFlood: return simple(ActionType::kFlood);
        case kPortAll: return simple(ActionType::kAll);
        case kPortController: return simple(ActionType::kController);
        case kPortNone: bad(it, "NONE is not an output port");
        default:
            a.type = ActionType::kOutput;
            a.port = p;
            return a;
    }
}

Action ActionParser::controller(const Item& it) {
    Action a = simple(ActionType::kController);
    if (!it.hasArg) return a;
    std::string_view arg = it.arg;
    if (it.paren) {
        if (!arg.starts_with("max_len=")) bad(it, "supported option: controller(max_len=N)");
        arg.remove_prefix(8);
    }
    a.max_len = static_cast<std::uint16_t>(number(it, arg, 0xffff));
    return a;
}

std::optional<Action> ActionParser::vlanAction(const Item& it, const std::string& name) {
    if (name == "mod_vlan_vid" || name == "set_vlan_vid" || name == "mod_vlan_pcp" || name == "set_vlan_pcp") {
        if (!it.hasArg) bad(it, "expected " + name + ":VALUE");
        const bool vid = name.ends_with("vid");
        Action a = simple(vid ? ActionType::kSetVlanVid : ActionType::kSetVlanPcp);
        a.value = number(it, it.arg, vid ? dp::kVlanVidMask : 7);
        vlanTagged_ = true;
        return a;
    }
    if (name == "push_vlan") {
        if (!it.hasArg) bad(it, "expected push_vlan:0x8100");
        Action a = simple(ActionType::kPushVlan);
        a.value = number(it, it.arg, 0xffff);
        if (a.value != dp::kEthTypeVlan && a.value != dp::kEthTypeQinQ) bad(it, "ethertype must be 0x8100 or 0x88a8");
        vlanTagged_ = true;
        return a;
    }
    return std::nullopt;
}

std::optional<Action> ActionParser::modAction(const Item& it, const std::string& name) {
    static constexpr std::pair<std::string_view, std::string_view> kMods[] = {
        {"mod_dl_src", "eth_src"}, {"mod_dl_dst", "eth_dst"}, {"mod_nw_src", "nw_src"}, {"mod_nw_dst", "nw_dst"},
        {"mod_nw_tos", "nw_tos"},  {"mod_nw_ttl", "nw_ttl"},  {"mod_tp_src", "tp_src"}, {"mod_tp_dst", "tp_dst"},
        {"set_tunnel", "tun_id"},  {"set_tunnel64", "tun_id"},
    };
    for (const auto& [mod, field] : kMods) {
        if (mod != name) continue;
        if (!it.hasArg || it.paren) bad(it, "expected " + name + ":VALUE");
        for (const auto& spec : kSetFields)
            if (spec.name == field) {
                require(it, name, spec.prereq);
                return setFieldValue(it, spec, it.arg);
            }
    }
    return std::nullopt;
}

Action ActionParser::setFieldAction(const Item& it) {
    const std::size_t arrow = it.arg.find("->");
    if (!it.hasArg || arrow == std::string_view::npos) bad(it, "expected set_field:VALUE->FIELD");
    const std::string_view value = it.arg.substr(0, arrow), field = it.arg.substr(arrow + 2);
    if (value.find('/') != std::string_view::npos) bad(it, "a masked set_field is not supported");
    for (const auto& spec : kSetFields) {
        if (spec.name != field) continue;
        require(it, "set_field:..->" + std::string(field), spec.prereq);
        if ((spec.field == Field::kVlanVid || spec.field == Field::kVlanPcp) && !vlanTagged_)
            bad(it, "needs a VLAN tag (match dl_vlan=N, or push_vlan:0x8100 first)");
        return setFieldValue(it, spec, value);
    }
    bad(it, "unknown or unsupported field '" + std::string(field) + "'");
}

Action ActionParser::setFieldValue(const Item& it, const SetFieldSpec& spec, std::string_view value) {
    if (spec.field == Field::kEthSrc || spec.field == Field::kEthDst) {
        auto mac = parseMac(value);
        if (!mac) bad(it, "invalid Ethernet address");
        Action a = setField(spec.field, 0);
        a.mac = *mac;
        return a;
    }
    if (spec.field == Field::kIpv4Src || spec.field == Field::kIpv4Dst || spec.field == Field::kTunDst) {
        auto ip = parseIpv4(value);
        if (!ip) bad(it, "invalid IPv4 address");
        return setField(spec.field, *ip);
    }
    std::uint64_t v = number(it, value, spec.max);
    if (spec.name == "ip_dscp") v <<= 2;
    if (spec.field == Field::kVlanVid) v &= dp::kVlanVidMask;
    if (spec.field == Field::kIpTos && (v & 0x03))
        bad(it, "TOS must be a multiple of 4 (only the DSCP bits are written)");
    return setField(spec.field, v);
}

// set_queue:QUEUE (OpenFlow 1.3 OFPAT_SET_QUEUE) and enqueue:PORT:QUEUE / enqueue(PORT,QUEUE)
// (ovs-actions(7)); queues 0..kMaxQueueId (ofproto/queue.h).
Action ActionParser::queueAction(const Item& it, const std::string& name) {
    if (name == "set_queue") {
        if (!it.hasArg || it.paren) bad(it, "expected set_queue:QUEUE");
        Action a = simple(ActionType::kSetQueue);
        a.value = number(it, it.arg, kMaxQueueId);
        return a;
    }
    const std::size_t sep = it.arg.rfind(it.paren ? ',' : ':');
    if (!it.hasArg || sep == std::string_view::npos) bad(it, "expected enqueue:PORT:QUEUE or enqueue(PORT,QUEUE)");
    Action a = simple(ActionType::kEnqueue);
    a.port = port(it, it.arg.substr(0, sep));
    if (a.port >= kPortMax && a.port != kPortInPort && a.port != kPortLocal)
        bad(it, "enqueue port must be a port, IN_PORT or LOCAL");
    a.value = number(it, it.arg.substr(sep + 1), kMaxQueueId);
    return a;
}

Action ActionParser::resubmit(const Item& it) {
    Action a = simple(ActionType::kResubmit);
    if (!it.hasArg) bad(it, "expected resubmit:PORT or resubmit([PORT],[TABLE])");
    std::string_view portText = it.arg, tableText;
    if (it.paren) {
        const std::size_t comma = it.arg.find(',');
        portText = it.arg.substr(0, comma);
        if (comma != std::string_view::npos) tableText = it.arg.substr(comma + 1);
        if (tableText.find(',') != std::string_view::npos) bad(it, "expected resubmit([PORT],[TABLE])");
        if (portText.empty() && tableText.empty()) bad(it, "at least one of PORT and TABLE must be given");
    } else if (portText.empty()) {
        bad(it, "expected resubmit:PORT");
    }
    a.port = portText.empty() ? kPortInPort : port(it, portText);
    if (a.port >= kPortMax && a.port != kPortInPort && a.port != kPortLocal)
        bad(it, "resubmit port must be a port, IN_PORT or LOCAL");
    if (!tableText.empty()) a.table = static_cast<std::uint8_t>(number(it, tableText, kMaxTable));
    return a;
}

Action ActionParser::gotoTable(const Item& it) {
    if (!it.hasArg || it.paren) bad(it, "expected goto_table:TABLE");
    Action a = simple(ActionType::kGotoTable);
    a.table = static_cast<std::uint8_t>(number(it, it.arg, kMaxTable));
    if (table_ != kTableAll && a.table <= table_)
        bad(it, "must go to a later table than table " + std::to_string(table_));
    return a;
}

}  // namespace

ActionList parseActionList(std::string_view text, std::size_t offset, const Match& match, std::uint8_t table,
                           const PortResolver& resolver) {
    return ActionParser(match, table, resolver).parse(text, offset);
}

}  // namespace vs::ofproto::parse_detail
