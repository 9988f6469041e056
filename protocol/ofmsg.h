// The controller protocol (docs/protocol.md "Controller protocol"): messages with OpenFlow 1.3
// semantics (OpenFlow Switch Specification 1.3.5, section 7 "The OpenFlow Protocol") carried as
// one JSON object per line, with the management protocol's framing. Shared by the switch
// (vswitchd) and the reference controller (vs-controller): typed messages, encode() to a line,
// decode() from a line with a precise error for anything malformed.
//
// Every message is {"type": T, "xid": N, ...body}: `xid` (0..2^32-1) is chosen by the sender of a
// request and copied into its reply or error (OpenFlow 1.3 section 7.1). Flows, matches and
// actions travel as text in ovs-ofctl syntax (docs/vsofctl.md), parsed by the switch with
// ofproto/ofp_parse.h; frames as base64 (RFC 4648); cookies and datapath ids as hex strings
// ("0x1f", "0000aabbccddeeff") because JSON numbers lose precision above 2^53 in many clients.
//
// decode() is strict: an unknown `type`, an unknown or repeated member, a missing member or one
// of the wrong JSON type is an error, so typos never pass silently.
//
// Thread-safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vs::protocol::of {

// The protocol version this code speaks; hello negotiates the highest version both sides list
// (OpenFlow 1.3 section 6.3.1).
inline constexpr int kVersion = 1;
// Largest message line either side accepts, in bytes, newline excluded. A longer line is answered
// with bad_request/bad_len and the connection is closed (its framing can no longer be trusted).
inline constexpr std::size_t kMaxMessageBytes = 1024 * 1024;
// Largest frame a packet_out may carry, and the largest packet_in payload (OFPCML_NO_BUFFER).
inline constexpr std::size_t kMaxFrameBytes = 65535;
// Bytes of an offending message quoted in an error's `data` (OpenFlow 1.3 section 7.4.4 asks for
// at least 64).
inline constexpr std::size_t kErrorDataBytes = 256;

// Reserved port numbers (OpenFlow 1.0 values, as ofproto/ofp_types.h and ovs-ofctl use).
inline constexpr std::uint32_t kPortTable = 0xfff9;
inline constexpr std::uint32_t kPortController = 0xfffd;
inline constexpr std::uint32_t kPortLocal = 0xfffe;
inline constexpr std::uint32_t kPortNone = 0xffff;

struct Hello {
    std::vector<int> versions{kVersion};
    bool operator==(const Hello&) const = default;
};

// OpenFlow 1.3 section 7.4.4 (ofp_error_msg), with types and codes as lower-case names
// ("bad_request"/"bad_len", "flow_mod_failed"/"bad_flow", ...; docs/protocol.md lists them).
struct Error {
    std::string type;
    std::string code;
    std::string message;  // human-readable: names the problem and quotes the bad token
    std::string data;     // the first kErrorDataBytes bytes of the offending message ("" if none)
    bool operator==(const Error&) const = default;
};

struct EchoRequest {
    std::string data;
    bool operator==(const EchoRequest&) const = default;
};
struct EchoReply {
    std::string data;
    bool operator==(const EchoReply&) const = default;
};

struct FeaturesRequest {
    bool operator==(const FeaturesRequest&) const = default;
};

// A port (OpenFlow 1.3 section 7.2.1, ofp_port): number, name, MAC, link state and config.
struct PortDesc {
    std::uint32_t port_no = 0;
    std::string name;
    std::string hw_addr;      // "aa:bb:cc:dd:ee:ff"
    bool link_down = false;   // OFPPS_LINK_DOWN
    bool port_down = false;   // OFPPC_PORT_DOWN (administratively down)
    std::uint32_t config = 0;  // every OFPPC_* bit (port_mod; OpenFlow 1.3 port_status carries them)
    bool operator==(const PortDesc&) const = default;
};

struct FeaturesReply {
    std::string datapath_id;  // 16 hex digits
    int n_tables = 254;
    int n_buffers = 0;        // no buffering: packet_in carries the frame, packet_out brings it back
    std::vector<std::string> capabilities;  // "flow_stats", "table_stats", "port_stats"
    std::vector<PortDesc> ports;            // (an OpenFlow 1.0 touch: saves a port_desc round trip)
    bool operator==(const FeaturesReply&) const = default;
};

enum class FlowModCommand { kAdd, kModify, kModifyStrict, kDelete, kDeleteStrict };

// OpenFlow 1.3 section 7.3.4.1. `flow` is one flow in ovs-ofctl syntax for the command, e.g.
// "table=0,priority=100,cookie=0x5,idle_timeout=10,send_flow_rem,in_port=1,dl_dst=...,actions=output:2"
// (delete: a match with optional cookie=V/M, out_port=P, table=N, priority=N).
struct FlowMod {
    FlowModCommand command = FlowModCommand::kAdd;
    std::string flow;
    bool operator==(const FlowMod&) const = default;
};

enum class PacketInReason { kNoMatch, kAction, kInvalidTtl };

// OpenFlow 1.3 section 7.4.1. No buffering (buffer_id is always OFP_NO_BUFFER): `data` holds
// the first max_len bytes of the frame as the actions before the controller action left it.
struct PacketIn {
    PacketInReason reason = PacketInReason::kAction;
    std::uint8_t table_id = 0;
    std::uint64_t cookie = 0;   // the rule's cookie (all ones when not from a rule)
    std::uint32_t in_port = 0;  // the ofport the frame arrived on
    std::string match;          // pipeline fields in ovs-ofctl syntax: "in_port=1[,tun_id=0x5]"
    std::uint32_t total_len = 0;
    std::vector<std::uint8_t> data;
    bool operator==(const PacketIn&) const = default;
};

// OpenFlow 1.3 section 7.3.7. `actions` in ovs-ofctl syntax ("output:2", "NORMAL",
// "output:TABLE" to run the flow tables); `in_port` a port number or kPortController / kPortLocal.
struct PacketOut {
    std::uint32_t in_port = kPortController;
    std::string actions;
    std::vector<std::uint8_t> data;
    bool operator==(const PacketOut&) const = default;
};

enum class PortReason { kAdd, kDelete, kModify };

// OpenFlow 1.3 section 7.4.3.
struct PortStatus {
    PortReason reason = PortReason::kAdd;
    PortDesc port;
    bool operator==(const PortStatus&) const = default;
};

enum class RemovedReason { kIdleTimeout, kHardTimeout, kDelete, kGroupDelete };

// OpenFlow 1.3 section 7.4.2, sent for rules added with send_flow_rem.
struct FlowRemoved {
    std::uint64_t cookie = 0;
    std::uint16_t priority = 0;
    RemovedReason reason = RemovedReason::kDelete;
    std::uint8_t table_id = 0;
    double duration = 0;  // seconds the rule existed
    std::uint16_t idle_timeout = 0;
    std::uint16_t hard_timeout = 0;
    std::uint64_t packet_count = 0;
    std::uint64_t byte_count = 0;
    std::string match;
    bool operator==(const FlowRemoved&) const = default;
};

enum class StatsType { kDesc, kFlow, kPort, kTable, kPortDesc };

// OpenFlow 1.3 section 7.3.5. flow: `match` is a dump-flows filter ("table=0,tcp,out_port=2,
// cookie=0x1/0xff"; "" for every rule). port: `port_no` (absent: every port).
struct MultipartRequest {
    StatsType stats = StatsType::kFlow;
    std::string match;
    std::optional<std::uint32_t> port_no;
    bool operator==(const MultipartRequest&) const = default;
};

struct FlowStats {
    std::uint8_t table_id = 0;
    std::uint16_t priority = 0;
    std::uint64_t cookie = 0;
    double duration = 0;
    std::uint16_t idle_timeout = 0;
    std::uint16_t hard_timeout = 0;
    bool send_flow_rem = false;
    std::uint64_t packet_count = 0;
    std::uint64_t byte_count = 0;
    std::string match;
    std::string actions;
    bool operator==(const FlowStats&) const = default;
};

struct PortStats {
    std::uint32_t port_no = 0;
    std::string name;
    std::uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0, rx_dropped = 0, tx_dropped = 0;
    bool operator==(const PortStats&) const = default;
};

struct TableStats {
    std::uint8_t table_id = 0;
    std::uint64_t active_count = 0, lookup_count = 0, matched_count = 0;
    bool operator==(const TableStats&) const = default;
};

struct Desc {
    std::string mfr_desc, hw_desc, sw_desc, serial_num, dp_desc;
    bool operator==(const Desc&) const = default;
};

// Only the member for `stats` is encoded (and filled by decode()).
struct MultipartReply {
    StatsType stats = StatsType::kFlow;
    std::vector<FlowStats> flows;
    std::vector<PortStats> ports;
    std::vector<TableStats> tables;
    std::vector<PortDesc> port_descs;
    Desc desc;
    bool operator==(const MultipartReply&) const = default;
};

struct BarrierRequest {
    bool operator==(const BarrierRequest&) const = default;
};
struct BarrierReply {
    bool operator==(const BarrierReply&) const = default;
};

using Body = std::variant<Hello, Error, EchoRequest, EchoReply, FeaturesRequest, FeaturesReply, FlowMod, PacketIn,
                          PacketOut, PortStatus, FlowRemoved, MultipartRequest, MultipartReply, BarrierRequest,
                          BarrierReply>;

struct Message {
    std::uint32_t xid = 0;
    Body body;
    bool operator==(const Message&) const = default;
};

// The wire name of a body's type ("hello", "packet_in", ...).
std::string_view typeName(const Body& body);

// One line of JSON (no newline).
std::string encode(const Message& msg);

// Why a line could not be decoded: the error to send back (type "bad_request", `code` one of
// bad_syntax, bad_type, bad_len, bad_multipart, bad_packet) and the line's xid when it could be
// read (else 0).
struct DecodeError {
    std::string code;
    std::string message;
    std::uint32_t xid = 0;
};

std::variant<Message, DecodeError> decode(std::string_view line);

// An error reply to a message: `offending` is quoted (truncated to kErrorDataBytes).
Message makeError(std::uint32_t xid, std::string type, std::string code, std::string message,
                  std::string_view offending);

// Names used on the wire, for printing and tests.
std::string_view commandName(FlowModCommand c);
std::string_view reasonName(PacketInReason r);
std::string_view reasonName(PortReason r);
std::string_view reasonName(RemovedReason r);
std::string_view statsName(StatsType t);
// "0x1f" and back (nullopt: not 0x-prefixed hex of at most 16 digits).
std::string hex64(std::uint64_t v);
std::optional<std::uint64_t> parseHex64(std::string_view s);

}  // namespace vs::protocol::of
