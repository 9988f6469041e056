// OpenFlow 1.3 message decoding (OpenFlow 1.3.5 section 7): the messages a switch receives.
// Messages only a switch sends (features_reply, packet_in, ...) and types this switch does not
// implement are refused with BAD_REQUEST/BAD_TYPE, as section 7.4.4 asks for unknown types.
#include "protocol/of13_detail.h"

namespace vs::protocol::of13 {
namespace {

using detail::fail;
using detail::Reader;

void wantLen(std::string_view frame, std::size_t n, const char* what) {
    if (frame.size() != n)
        fail(kBadRequest, code::kBadLen,
             std::string(what) + " of " + std::to_string(frame.size()) + " bytes, expected " + std::to_string(n));
}
void wantMin(std::string_view frame, std::size_t n, const char* what) {
    if (frame.size() < n)
        fail(kBadRequest, code::kBadLen,
             std::string(what) + " of " + std::to_string(frame.size()) + " bytes, expected at least " + std::to_string(n));
}

Hello decodeHello(Reader& r) {
    Hello h;
    h.bitmap = 0;
    while (r.left() >= 4) {
        std::uint16_t type = r.u16("hello element");
        std::uint16_t len = r.u16("hello element");
        if (len < 4) fail(kBadRequest, code::kBadLen, "hello element of length " + std::to_string(len));
        Reader body(r.bytes(len - 4u, "hello element"));
        r.skip(std::min<std::size_t>((8 - len % 8) % 8, r.left()), "hello element padding");
        if (type != 1) continue;  // unknown elements are ignored (6.3.1)
        while (body.left() >= 4) {
            std::uint32_t word = body.u32("versionbitmap");
            if (body.pos() == 4) h.bitmap = word;  // versions 0..31; higher words name versions we don't speak
        }
    }
    return h;
}

FlowMod decodeFlowMod(std::string_view frame, Reader& r) {
    wantMin(frame, 56, "OFPT_FLOW_MOD");
    FlowMod f;
    f.cookie = r.u64("flow_mod");
    f.cookie_mask = r.u64("flow_mod");
    f.table_id = r.u8("flow_mod");
    f.command = r.u8("flow_mod");
    f.idle_timeout = r.u16("flow_mod");
    f.hard_timeout = r.u16("flow_mod");
    f.priority = r.u16("flow_mod");
    f.buffer_id = r.u32("flow_mod");
    f.out_port = r.u32("flow_mod");
    f.out_group = r.u32("flow_mod");
    f.flags = r.u16("flow_mod");
    r.skip(2, "flow_mod");
    if (f.command > kDeleteStrict)
        fail(kFlowModFailed, code::kFmBadCommand, "flow_mod command " + std::to_string(f.command) + " is unknown");
    if (f.flags & ~0x1f) fail(kFlowModFailed, code::kFmBadFlags, "flow_mod flags 0x" + std::to_string(f.flags) + " has unknown bits");
    f.match = detail::readMatch(r);
    f.instructions = detail::readInstructions(r.rest());
    return f;
}

PacketOut decodePacketOut(std::string_view frame, Reader& r) {
    wantMin(frame, 24, "OFPT_PACKET_OUT");
    PacketOut p;
    p.buffer_id = r.u32("packet_out");
    p.in_port = r.u32("packet_out");
    std::uint16_t actions_len = r.u16("packet_out");
    r.skip(6, "packet_out");
    if (actions_len > r.left())
        fail(kBadRequest, code::kBadLen,
             "packet_out actions_len " + std::to_string(actions_len) + " exceeds the message (" + std::to_string(r.left()) + " bytes left)");
    p.actions = detail::readActions(r.bytes(actions_len, "packet_out actions"));
    p.data = std::string(r.rest());
    return p;
}

MultipartRequest decodeMultipart(std::string_view frame, Reader& r) {
    wantMin(frame, 16, "OFPT_MULTIPART_REQUEST");
    MultipartRequest m;
    m.type = r.u16("multipart");
    m.flags = r.u16("multipart");
    r.skip(4, "multipart");
    switch (m.type) {
    case kMpDesc: case kMpTable: case kMpPortDesc: case kMpTableFeatures:
        if (m.type == kMpTableFeatures && r.left() > 0)
            fail(kBadRequest, code::kBadMultipart, "setting table features is not supported");
        if (r.left() != 0) fail(kBadRequest, code::kBadLen, "multipart request type " + std::to_string(m.type) + " has a body");
        break;
    case kMpFlow: case kMpAggregate:
        wantMin(frame, 16 + 40, "flow stats request");
        m.flow.table_id = r.u8("flow stats request");
        r.skip(3, "flow stats request");
        m.flow.out_port = r.u32("flow stats request");
        m.flow.out_group = r.u32("flow stats request");
        r.skip(4, "flow stats request");
        m.flow.cookie = r.u64("flow stats request");
        m.flow.cookie_mask = r.u64("flow stats request");
        m.flow.match = detail::readMatch(r);
        if (r.left() != 0) fail(kBadRequest, code::kBadLen, "flow stats request has bytes after its match");
        break;
    case kMpPortStats:
        wantLen(frame, 16 + 8, "port stats request");
        m.port_no = r.u32("port stats request");
        break;
    case kMpGroup:
        wantLen(frame, 16 + 8, "group stats request");
        m.group_id = r.u32("group stats request");
        break;
    case kMpGroupDesc: case kMpGroupFeatures:
        if (r.left() != 0) fail(kBadRequest, code::kBadLen, "multipart request type " + std::to_string(m.type) + " has a body");
        break;
    case kMpMeter: case kMpMeterConfig:  // ofp_meter_multipart_request
        wantLen(frame, 16 + 8, "meter multipart request");
        m.meter_id = r.u32("meter multipart request");
        break;
    case kMpMeterFeatures:
        if (r.left() != 0) fail(kBadRequest, code::kBadLen, "meter features request has a body");
        break;
    default:
        fail(kBadRequest, code::kBadMultipart, "multipart type " + std::to_string(m.type) + " is not supported");
    }
    return m;
}

Body decodeBody(std::uint8_t type, std::string_view frame, Reader& r) {
    switch (type) {
    case kHello: {
        Hello h = decodeHello(r);
        h.version = static_cast<std::uint8_t>(frame[0]);
        return h;
    }
    case kError: {
        wantMin(frame, 12, "OFPT_ERROR");
        Error e;
        e.type = r.u16("error");
        e.code = r.u16("error");
        e.data = std::string(r.rest());
        return e;
    }
    case kEchoRequest: return EchoRequest{std::string(r.rest())};
    case kEchoReply: return EchoReply{std::string(r.rest())};
    case kExperimenter: {
        wantMin(frame, 16, "OFPT_EXPERIMENTER");
        Experimenter e;
        e.experimenter = r.u32("experimenter");
        e.exp_type = r.u32("experimenter");
        return e;
    }
    case kFeaturesRequest: wantLen(frame, 8, "OFPT_FEATURES_REQUEST"); return FeaturesRequest{};
    case kGetConfigRequest: wantLen(frame, 8, "OFPT_GET_CONFIG_REQUEST"); return GetConfigRequest{};
    case kSetConfig: {
        if (frame.size() != 12) fail(kSwitchConfigFailed, code::kCfgBadLen, "OFPT_SET_CONFIG of " + std::to_string(frame.size()) + " bytes, expected 12");
        SetConfig c;
        c.flags = r.u16("set_config");
        c.miss_send_len = r.u16("set_config");
        if (c.flags & ~3u) fail(kSwitchConfigFailed, code::kCfgBadFlags, "set_config flags have unknown bits");
        return c;
    }
    case kPacketOut: return decodePacketOut(frame, r);
    case kFlowMod: return decodeFlowMod(frame, r);
    case kGroupMod: return detail::readGroupMod(frame, r);
    case kMultipartRequest: return decodeMultipart(frame, r);
    case kBarrierRequest: wantLen(frame, 8, "OFPT_BARRIER_REQUEST"); return BarrierRequest{};
    case kRoleRequest: {
        wantLen(frame, 24, "OFPT_ROLE_REQUEST");
        RoleRequest q;
        q.role = r.u32("role_request");
        r.skip(4, "role_request");
        q.generation_id = r.u64("role_request");
        if (q.role > kRoleSlave)
            fail(kRoleRequestFailed, code::kRoleBadRole, "role " + std::to_string(q.role) + " is not one of 0..3");
        return q;
    }
    case kGetAsyncRequest: wantLen(frame, 8, "OFPT_GET_ASYNC_REQUEST"); return GetAsyncRequest{};
    case kMeterMod: wantMin(frame, 16, "OFPT_METER_MOD"); return detail::readMeterMod(r);
    case kPortMod: return detail::readPortMod(frame, r);  // of13_port.cpp
    case kTableMod: return detail::readTableMod(frame, r);  // of13_port.cpp
    case kSetAsync: {
        wantLen(frame, 32, "OFPT_SET_ASYNC");
        SetAsync a;
        for (auto* m : {&a.packet_in_mask, &a.port_status_mask, &a.flow_removed_mask}) {
            (*m)[0] = r.u32("set_async");
            (*m)[1] = r.u32("set_async");
        }
        return a;
    }
    default:
        fail(kBadRequest, code::kBadType, std::string(typeName(type)) + " (type " + std::to_string(type) + ") is not accepted by this switch");
    }
}

}  // namespace

std::uint16_t frameLength(std::string_view header) {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(header[2]) << 8) | static_cast<std::uint8_t>(header[3]));
}

std::variant<Message, DecodeError> decode(std::string_view frame) {
    DecodeError err;
    try {
        Reader r(frame);
        std::uint8_t version = r.u8("header");
        std::uint8_t type = r.u8("header");
        std::uint16_t length = r.u16("header");
        err.xid = r.u32("header");
        if (length != frame.size())
            fail(kBadRequest, code::kBadLen,
                 "header length " + std::to_string(length) + " differs from the message's " + std::to_string(frame.size()) + " bytes");
        if (version != kVersion && type != kHello)
            fail(kBadRequest, code::kBadVersion, "version " + std::to_string(version) + " (this connection speaks 4, OpenFlow 1.3)");
        return Message{err.xid, decodeBody(type, frame, r)};
    } catch (const detail::Fail& f) {
        err.type = f.type;
        err.code = f.code;
        err.message = f.message;
    }
    return err;
}

}  // namespace vs::protocol::of13
