// OpenFlow 1.3 message encoding (OpenFlow 1.3.5 section 7).
#include <stdexcept>

#include "protocol/of13_detail.h"

namespace vs::protocol::of13 {
namespace {

using detail::Writer;

template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

void writeFlowStats(Writer& w, const FlowStats& f) {
    std::size_t start = w.size();
    w.u16(0);
    w.u8(f.table_id);
    w.zeros(1);
    w.u32(f.duration_sec);
    w.u32(f.duration_nsec);
    w.u16(f.priority);
    w.u16(f.idle_timeout);
    w.u16(f.hard_timeout);
    w.u16(f.flags);
    w.zeros(4);
    w.u64(f.cookie);
    w.u64(f.packet_count);
    w.u64(f.byte_count);
    detail::writeMatch(w, f.match);
    detail::writeInstructions(w, f.instructions);
    w.put16At(start, static_cast<std::uint16_t>(w.size() - start));
}

void writePortStats(Writer& w, const PortStats& p) {
    w.u32(p.port_no);
    w.zeros(4);
    for (std::uint64_t v : {p.rx_packets, p.tx_packets, p.rx_bytes, p.tx_bytes, p.rx_dropped, p.tx_dropped,
                            p.rx_errors, p.tx_errors})
        w.u64(v);
    for (int i = 0; i < 4; ++i) w.u64(0);  // rx_frame_err, rx_over_err, rx_crc_err, collisions
    w.u32(p.duration_sec);
    w.u32(p.duration_nsec);
}

// A table features property (7.3.5.5.2) of 16-bit ids (instructions, actions: each as a 4-byte
// header), 8-bit table ids or 32-bit OXM headers, padded to 8 bytes.
template <class T>
void writeProperty(Writer& w, std::uint16_t type, const std::vector<T>& items) {
    std::size_t start = w.size();
    w.u16(type);
    w.u16(0);
    for (T v : items) {
        if constexpr (sizeof(T) == 1) w.u8(v);
        else if constexpr (sizeof(T) == 2) { w.u16(v); w.u16(4); }
        else w.u32(v);
    }
    w.put16At(start + 2, static_cast<std::uint16_t>(w.size() - start));
    w.padTo8();
}

void writeTableFeatures(Writer& w, const TableFeatures& t) {
    std::size_t start = w.size();
    w.u16(0);
    w.u8(t.table_id);
    w.zeros(5);
    w.fixedString(t.name, 32);
    w.u64(t.metadata_match);
    w.u64(t.metadata_write);
    w.u32(t.config);
    w.u32(t.max_entries);
    writeProperty(w, 0, t.instructions);     // OFPTFPT_INSTRUCTIONS
    writeProperty(w, 1, t.instructions);     // OFPTFPT_INSTRUCTIONS_MISS
    writeProperty(w, 2, t.next_tables);      // OFPTFPT_NEXT_TABLES
    writeProperty(w, 3, t.next_tables);      // OFPTFPT_NEXT_TABLES_MISS
    writeProperty(w, 4, t.write_actions);    // OFPTFPT_WRITE_ACTIONS
    writeProperty(w, 5, t.write_actions);    // OFPTFPT_WRITE_ACTIONS_MISS
    writeProperty(w, 6, t.apply_actions);    // OFPTFPT_APPLY_ACTIONS
    writeProperty(w, 7, t.apply_actions);    // OFPTFPT_APPLY_ACTIONS_MISS
    writeProperty(w, 8, t.match);            // OFPTFPT_MATCH
    writeProperty(w, 10, t.wildcards);       // OFPTFPT_WILDCARDS
    writeProperty(w, 12, t.write_setfield);  // OFPTFPT_WRITE_SETFIELD
    writeProperty(w, 13, t.write_setfield);  // OFPTFPT_WRITE_SETFIELD_MISS
    writeProperty(w, 14, t.apply_setfield);  // OFPTFPT_APPLY_SETFIELD
    writeProperty(w, 15, t.apply_setfield);  // OFPTFPT_APPLY_SETFIELD_MISS
    w.put16At(start, static_cast<std::uint16_t>(w.size() - start));
}

// The bodies of one multipart reply, each as its own byte string (so that they can be split).
std::vector<std::string> multipartBodies(const MultipartReply& m) {
    std::vector<std::string> out;
    auto one = [&](auto&& fill) {
        Writer w;
        fill(w);
        out.push_back(std::move(w.str()));
    };
    switch (m.type) {
    case kMpDesc:
        one([&](Writer& w) {
            w.fixedString(m.desc.mfr_desc, 256);
            w.fixedString(m.desc.hw_desc, 256);
            w.fixedString(m.desc.sw_desc, 256);
            w.fixedString(m.desc.serial_num, 32);
            w.fixedString(m.desc.dp_desc, 256);
        });
        break;
    case kMpFlow:
        for (const auto& f : m.flows) one([&](Writer& w) { writeFlowStats(w, f); });
        break;
    case kMpAggregate:
        one([&](Writer& w) {
            w.u64(m.aggregate.packet_count);
            w.u64(m.aggregate.byte_count);
            w.u32(m.aggregate.flow_count);
            w.zeros(4);
        });
        break;
    case kMpTable:
        for (const auto& t : m.tables)
            one([&](Writer& w) {
                w.u8(t.table_id);
                w.zeros(3);
                w.u32(t.active_count);
                w.u64(t.lookup_count);
                w.u64(t.matched_count);
            });
        break;
    case kMpPortStats:
        for (const auto& p : m.ports) one([&](Writer& w) { writePortStats(w, p); });
        break;
    case kMpPortDesc:
        for (const auto& p : m.port_descs) one([&](Writer& w) { detail::writePort(w, p); });
        break;
    case kMpTableFeatures:
        for (const auto& t : m.table_features) one([&](Writer& w) { writeTableFeatures(w, t); });
        break;
    case kMpGroup:
        for (const auto& g : m.groups) one([&](Writer& w) { detail::writeGroupStats(w, g); });
        break;
    case kMpGroupDesc:
        for (const auto& g : m.group_descs) one([&](Writer& w) { detail::writeGroupDesc(w, g); });
        break;
    case kMpGroupFeatures: one([&](Writer& w) { detail::writeGroupFeatures(w, m.group_features); }); break;
    case kMpMeter:
        for (const auto& s : m.meter_stats) one([&](Writer& w) { detail::writeMeterStats(w, s); });
        break;
    case kMpMeterConfig:
        for (const auto& c : m.meter_configs) one([&](Writer& w) { detail::writeMeterConfig(w, c); });
        break;
    case kMpMeterFeatures: one([&](Writer& w) { detail::writeMeterFeatures(w, m.meter_features); }); break;
    default: throw std::invalid_argument("multipart reply type " + std::to_string(m.type) + " is not encoded");
    }
    return out;
}

void writeBody(Writer& w, const Body& body) {
    std::visit(
        Overload{
            [&](const Hello& h) {
                if (h.bitmap == 0) return;
                w.u16(1);  // OFPHET_VERSIONBITMAP
                w.u16(8);
                w.u32(h.bitmap);
            },
            [&](const Error& e) { w.u16(e.type); w.u16(e.code); w.bytes(e.data); },
            [&](const EchoRequest& e) { w.bytes(e.data); },
            [&](const EchoReply& e) { w.bytes(e.data); },
            [&](const Experimenter& e) { w.u32(e.experimenter); w.u32(e.exp_type); },
            [&](const FeaturesRequest&) {},
            [&](const FeaturesReply& f) {
                w.u64(f.datapath_id);
                w.u32(f.n_buffers);
                w.u8(f.n_tables);
                w.u8(0);  // auxiliary_id: the main connection
                w.zeros(2);
                w.u32(f.capabilities);
                w.u32(0);
            },
            [&](const GetConfigRequest&) {},
            [&](const SwitchConfig& c) { w.u16(c.flags); w.u16(c.miss_send_len); },
            [&](const PacketIn& p) {
                w.u32(p.buffer_id);
                w.u16(p.total_len);
                w.u8(p.reason);
                w.u8(p.table_id);
                w.u64(p.cookie);
                detail::writeMatch(w, p.match);
                w.zeros(2);
                w.bytes(p.data);
            },
            [&](const FlowRemoved& f) {
                w.u64(f.cookie);
                w.u16(f.priority);
                w.u8(f.reason);
                w.u8(f.table_id);
                w.u32(f.duration_sec);
                w.u32(f.duration_nsec);
                w.u16(f.idle_timeout);
                w.u16(f.hard_timeout);
                w.u64(f.packet_count);
                w.u64(f.byte_count);
                detail::writeMatch(w, f.match);
            },
            [&](const PortStatus& p) { w.u8(p.reason); w.zeros(7); detail::writePort(w, p.desc); },
            [&](const PacketOut& p) {
                w.u32(p.buffer_id);
                w.u32(p.in_port);
                std::size_t at = w.size();
                w.u16(0);
                w.zeros(6);
                std::size_t start = w.size();
                detail::writeActions(w, p.actions);
                w.put16At(at, static_cast<std::uint16_t>(w.size() - start));
                w.bytes(p.data);
            },
            [&](const FlowMod& f) {
                w.u64(f.cookie);
                w.u64(f.cookie_mask);
                w.u8(f.table_id);
                w.u8(f.command);
                w.u16(f.idle_timeout);
                w.u16(f.hard_timeout);
                w.u16(f.priority);
                w.u32(f.buffer_id);
                w.u32(f.out_port);
                w.u32(f.out_group);
                w.u16(f.flags);
                w.zeros(2);
                detail::writeMatch(w, f.match);
                detail::writeInstructions(w, f.instructions);
            },
            [&](const MultipartRequest& m) {
                w.u16(m.type);
                w.u16(m.flags);
                w.zeros(4);
                if (m.type == kMpFlow || m.type == kMpAggregate) {
                    w.u8(m.flow.table_id);
                    w.zeros(3);
                    w.u32(m.flow.out_port);
                    w.u32(m.flow.out_group);
                    w.zeros(4);
                    w.u64(m.flow.cookie);
                    w.u64(m.flow.cookie_mask);
                    detail::writeMatch(w, m.flow.match);
                } else if (m.type == kMpPortStats) {
                    w.u32(m.port_no);
                    w.zeros(4);
                } else if (m.type == kMpGroup) {
                    w.u32(m.group_id);
                    w.zeros(4);
                } else if (m.type == kMpMeter || m.type == kMpMeterConfig) {
                    w.u32(m.meter_id);
                    w.zeros(4);
                }
            },
            [&](const MultipartReply& m) {
                w.u16(m.type);
                w.u16(m.flags);
                w.zeros(4);
                for (const auto& b : multipartBodies(m)) w.bytes(b);
            },
            [&](const BarrierRequest&) {},
            [&](const BarrierReply&) {},
            [&](const Role& r) { w.u32(r.role); w.zeros(4); w.u64(r.generation_id); },
            [&](const GetAsyncRequest&) {},
            [&](const AsyncConfig& a) {
                for (const auto* m : {&a.packet_in_mask, &a.port_status_mask, &a.flow_removed_mask}) {
                    w.u32((*m)[0]);
                    w.u32((*m)[1]);
                }
            },
            [&](const GroupMod& g) { detail::writeGroupMod(w, g); },
            [&](const MeterMod& m) { detail::writeMeterMod(w, m); },
            [&](const PortMod& m) { detail::writePortMod(w, m); },
            [&](const TableMod& m) { detail::writeTableMod(w, m); },
        },
        body);
}

std::string finish(Writer& w) {
    if (w.size() > 0xffff) throw std::length_error("OpenFlow message of " + std::to_string(w.size()) + " bytes");
    w.put16At(2, static_cast<std::uint16_t>(w.size()));
    return std::move(w.str());
}

}  // namespace

Type typeOf(const Body& body) {
    static constexpr Type kTypes[] = {kHello,          kError,         kEchoRequest,  kEchoReply,        kExperimenter,
                                      kFeaturesRequest, kFeaturesReply, kGetConfigRequest, kGetConfigReply, kSetConfig,
                                      kPacketIn,       kFlowRemoved,   kPortStatus,   kPacketOut,        kFlowMod,
                                      kMultipartRequest, kMultipartReply, kBarrierRequest, kBarrierReply,
                                      kRoleRequest,    kRoleReply,     kGetAsyncRequest, kGetAsyncReply, kSetAsync,
                                      kGroupMod, kMeterMod, kPortMod, kTableMod};
    static_assert(std::size(kTypes) == std::variant_size_v<Body>);
    return kTypes[body.index()];
}

std::string_view typeName(std::uint8_t type) {
    static constexpr std::string_view kNames[] = {
        "OFPT_HELLO", "OFPT_ERROR", "OFPT_ECHO_REQUEST", "OFPT_ECHO_REPLY", "OFPT_EXPERIMENTER",
        "OFPT_FEATURES_REQUEST", "OFPT_FEATURES_REPLY", "OFPT_GET_CONFIG_REQUEST", "OFPT_GET_CONFIG_REPLY",
        "OFPT_SET_CONFIG", "OFPT_PACKET_IN", "OFPT_FLOW_REMOVED", "OFPT_PORT_STATUS", "OFPT_PACKET_OUT",
        "OFPT_FLOW_MOD", "OFPT_GROUP_MOD", "OFPT_PORT_MOD", "OFPT_TABLE_MOD", "OFPT_MULTIPART_REQUEST",
        "OFPT_MULTIPART_REPLY", "OFPT_BARRIER_REQUEST", "OFPT_BARRIER_REPLY", "OFPT_QUEUE_GET_CONFIG_REQUEST",
        "OFPT_QUEUE_GET_CONFIG_REPLY", "OFPT_ROLE_REQUEST", "OFPT_ROLE_REPLY", "OFPT_GET_ASYNC_REQUEST",
        "OFPT_GET_ASYNC_REPLY", "OFPT_SET_ASYNC", "OFPT_METER_MOD"};
    return type < std::size(kNames) ? kNames[type] : "unknown";
}

std::string encode(const Message& msg) {
    Writer w;
    const auto* hello = std::get_if<Hello>(&msg.body);
    w.u8(hello ? hello->version : kVersion);
    w.u8(typeOf(msg.body));
    w.u16(0);
    w.u32(msg.xid);
    writeBody(w, msg.body);
    return finish(w);
}

std::vector<std::string> encodeMultipart(std::uint32_t xid, const MultipartReply& reply) {
    constexpr std::size_t kLimit = 0xffff - 16;
    std::vector<std::string> out;
    auto bodies = multipartBodies(reply);
    std::size_t i = 0;
    do {
        Writer w;
        w.u8(kVersion);
        w.u8(kMultipartReply);
        w.u16(0);
        w.u32(xid);
        w.u16(reply.type);
        std::size_t flags_at = w.size();
        w.u16(0);
        w.zeros(4);
        while (i < bodies.size() && w.size() + bodies[i].size() <= kLimit) w.bytes(bodies[i++]);
        if (i < bodies.size()) {
            if (w.size() == 16) throw std::length_error("one multipart body exceeds 64 KiB");
            w.put16At(flags_at, kMoreFlag);
        }
        out.push_back(finish(w));
    } while (i < bodies.size());
    return out;
}

Message makeError(std::uint16_t type, std::uint16_t c, std::string_view offending) {
    std::uint32_t xid = 0;
    if (offending.size() >= 8)
        for (int i = 4; i < 8; ++i) xid = (xid << 8) | static_cast<std::uint8_t>(offending[i]);
    return Message{xid, Error{type, c, std::string(offending.substr(0, kErrorDataBytes))}};
}

}  // namespace vs::protocol::of13
