// Binary OpenFlow 1.3 codec (OpenFlow Switch Specification 1.3.5, section 7 "The OpenFlow
// Protocol" and appendix A "The OpenFlow Protocol" header file openflow.h): wire bytes <-> C++
// structs, nothing else (no sockets, no switch semantics). The switch (vswitchd/of13_*.cpp) maps
// these structs to ofproto's flow-table types; tests/fuzz/targets/of13.h drives decode().
//
// decode() checks everything the spec fixes: the header (version 4, length equal to the frame),
// every fixed body length, padding that must be zero is not checked (the spec says "ignored"),
// every TLV (OXM, action, instruction, multipart body) for its length, alignment and bounds, OXM
// class/field/length/mask/duplicates/wildcards and the match prerequisites (section 7.2.3.6).
// A problem becomes a DecodeError with the error type and code the spec names for it; the caller
// answers it with makeError(), which quotes the offending message's first 64 bytes (7.4.4).
//
// Numbers on the wire are big-endian; in the structs they are host order. Byte strings (MACs,
// IPv6 addresses, OXM values) stay in network order.
//
// Thread-safety: pure functions and value types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vs::protocol::of13 {

inline constexpr std::uint8_t kVersion = 0x04;     // OFP_VERSION for 1.3
inline constexpr std::size_t kHeaderLen = 8;        // ofp_header
inline constexpr std::size_t kErrorDataBytes = 64;  // offending bytes quoted in an error (7.4.4)
inline constexpr std::uint32_t kNoBuffer = 0xffffffff;
inline constexpr std::uint16_t kNoBufferLen = 0xffff;  // OFPCML_NO_BUFFER

// Message types (ofp_type, section 7.1).
enum Type : std::uint8_t {
    kHello = 0, kError = 1, kEchoRequest = 2, kEchoReply = 3, kExperimenter = 4, kFeaturesRequest = 5,
    kFeaturesReply = 6, kGetConfigRequest = 7, kGetConfigReply = 8, kSetConfig = 9, kPacketIn = 10,
    kFlowRemoved = 11, kPortStatus = 12, kPacketOut = 13, kFlowMod = 14, kGroupMod = 15, kPortMod = 16,
    kTableMod = 17, kMultipartRequest = 18, kMultipartReply = 19, kBarrierRequest = 20, kBarrierReply = 21,
    kQueueGetConfigRequest = 22, kQueueGetConfigReply = 23, kRoleRequest = 24, kRoleReply = 25,
    kGetAsyncRequest = 26, kGetAsyncReply = 27, kSetAsync = 28, kMeterMod = 29,
};

// Reserved ports (ofp_port_no, 7.2.1), 32-bit in OpenFlow 1.3.
inline constexpr std::uint32_t kPortMax = 0xffffff00;
inline constexpr std::uint32_t kPortInPort = 0xfffffff8;
inline constexpr std::uint32_t kPortTable = 0xfffffff9;
inline constexpr std::uint32_t kPortNormal = 0xfffffffa;
inline constexpr std::uint32_t kPortFlood = 0xfffffffb;
inline constexpr std::uint32_t kPortAll = 0xfffffffc;
inline constexpr std::uint32_t kPortController = 0xfffffffd;
inline constexpr std::uint32_t kPortLocal = 0xfffffffe;
inline constexpr std::uint32_t kPortAny = 0xffffffff;
inline constexpr std::uint32_t kGroupAny = 0xffffffff;
inline constexpr std::uint8_t kTableAll = 0xff;

// Error types and the codes used here (ofp_error_type, 7.4.4).
enum ErrorType : std::uint16_t {
    kHelloFailed = 0, kBadRequest = 1, kBadAction = 2, kBadInstruction = 3, kBadMatch = 4, kFlowModFailed = 5,
    kGroupModFailed = 6, kPortModFailed = 7, kTableModFailed = 8, kQueueOpFailed = 9, kSwitchConfigFailed = 10,
    kRoleRequestFailed = 11, kMeterModFailed = 12, kTableFeaturesFailed = 13,
};
namespace code {
// HELLO_FAILED
inline constexpr std::uint16_t kIncompatible = 0;
// BAD_REQUEST
inline constexpr std::uint16_t kBadVersion = 0, kBadType = 1, kBadMultipart = 2, kBadExperimenter = 3,
                               kReqEperm = 5, kBadLen = 6, kBufferUnknown = 8, kBadTableId = 9, kIsSlave = 10,
                               kBadPort = 11, kBadPacket = 12;
// BAD_ACTION
inline constexpr std::uint16_t kActBadType = 0, kActBadLen = 1, kActBadExperimenter = 2, kActBadOutPort = 4,
                               kActBadArgument = 5, kActBadOutGroup = 9, kActMatchInconsistent = 10,
                               kActBadSetType = 13, kActBadSetLen = 14, kActBadSetArgument = 15;
// BAD_INSTRUCTION
inline constexpr std::uint16_t kInstUnknown = 0, kInstUnsup = 1, kInstBadTableId = 2, kInstBadLen = 7;
// BAD_MATCH
inline constexpr std::uint16_t kMatchBadType = 0, kMatchBadLen = 1, kMatchBadWildcards = 5, kMatchBadField = 6,
                               kMatchBadValue = 7, kMatchBadMask = 8, kMatchBadPrereq = 9, kMatchDupField = 10;
// FLOW_MOD_FAILED
inline constexpr std::uint16_t kFmUnknown = 0, kFmBadTableId = 2, kFmOverlap = 3, kFmBadTimeout = 5,
                               kFmBadCommand = 6, kFmBadFlags = 7;
// SWITCH_CONFIG_FAILED
inline constexpr std::uint16_t kCfgBadFlags = 0, kCfgBadLen = 1;
// ROLE_REQUEST_FAILED
inline constexpr std::uint16_t kRoleStale = 0, kRoleUnsup = 1, kRoleBadRole = 2;
// GROUP_MOD_FAILED (the others: ofproto::GroupError)
inline constexpr std::uint16_t kGmBadCommand = 11, kGmBadBucket = 12;
// METER_MOD_FAILED (ofp_meter_mod_failed_code)
inline constexpr std::uint16_t kMmUnknown = 0, kMmMeterExists = 1, kMmInvalidMeter = 2, kMmUnknownMeter = 3,
                               kMmBadCommand = 4, kMmBadFlags = 5, kMmBadRate = 6, kMmBadBurst = 7, kMmBadBand = 8,
                               kMmBadBandValue = 9, kMmOutOfMeters = 10, kMmOutOfBands = 11;
// PORT_MOD_FAILED (ofp_port_mod_failed_code)
inline constexpr std::uint16_t kPmBadPort = 0, kPmBadHwAddr = 1, kPmBadConfig = 2, kPmBadAdvertise = 3, kPmEperm = 4;
// TABLE_MOD_FAILED (ofp_table_mod_failed_code)
inline constexpr std::uint16_t kTmBadTable = 0, kTmBadConfig = 1, kTmEperm = 2;
}  // namespace code

// OXM fields of class OFPXMC_OPENFLOW_BASIC (7.2.3.7) that the codec knows, with their value
// lengths; the switch supports the subset docs/controller.md lists.
enum class OxmField : std::uint8_t {
    kInPort = 0, kInPhyPort = 1, kMetadata = 2, kEthDst = 3, kEthSrc = 4, kEthType = 5, kVlanVid = 6,
    kVlanPcp = 7, kIpDscp = 8, kIpEcn = 9, kIpProto = 10, kIpv4Src = 11, kIpv4Dst = 12, kTcpSrc = 13,
    kTcpDst = 14, kUdpSrc = 15, kUdpDst = 16, kSctpSrc = 17, kSctpDst = 18, kIcmpv4Type = 19,
    kIcmpv4Code = 20, kArpOp = 21, kArpSpa = 22, kArpTpa = 23, kArpSha = 24, kArpTha = 25, kIpv6Src = 26,
    kIpv6Dst = 27, kIpv6Flabel = 28, kIcmpv6Type = 29, kIcmpv6Code = 30, kIpv6NdTarget = 31, kIpv6NdSll = 32,
    kIpv6NdTll = 33, kMplsLabel = 34, kMplsTc = 35, kMplsBos = 36, kPbbIsid = 37, kTunnelId = 38,
    kIpv6Exthdr = 39,
};
inline constexpr std::uint16_t kOxmClassBasic = 0x8000;
// The 32-bit OXM header of an unmasked field (class, field, length), as table features list them.
std::uint32_t oxmHeader(OxmField f);
inline constexpr std::uint16_t kVlanPresent = 0x1000;  // OFPVID_PRESENT

// One OXM TLV: value and (if has_mask) mask, both `len` bytes in network order.
struct Oxm {
    OxmField field{};
    bool has_mask = false;
    std::uint8_t len = 0;
    std::array<std::uint8_t, 16> value{};
    std::array<std::uint8_t, 16> mask{};
    // The value (or mask) as a big-endian integer (fields of at most 8 bytes).
    std::uint64_t uvalue() const;
    std::uint64_t umask() const;
    bool operator==(const Oxm&) const = default;
};
// Makes an OXM from an integer value (and mask when `mask` is set) of the field's length.
Oxm makeOxm(OxmField f, std::uint64_t value, std::optional<std::uint64_t> mask = std::nullopt);
Oxm makeOxmBytes(OxmField f, const std::uint8_t* value, const std::uint8_t* mask = nullptr);
// The value length of a field (0: unknown field).
std::uint8_t oxmLength(OxmField f);

// ofp_match of type OFPMT_OXM (7.2.3).
struct Match {
    std::vector<Oxm> fields;
    const Oxm* find(OxmField f) const;
    bool operator==(const Match&) const = default;
};

// Actions (ofp_action_type, 7.2.5).
enum class ActionType : std::uint16_t {
    kOutput = 0, kCopyTtlOut = 11, kCopyTtlIn = 12, kSetMplsTtl = 15, kDecMplsTtl = 16, kPushVlan = 17,
    kPopVlan = 18, kPushMpls = 19, kPopMpls = 20, kSetQueue = 21, kGroup = 22, kSetNwTtl = 23, kDecNwTtl = 24,
    kSetField = 25, kPushPbb = 26, kPopPbb = 27, kExperimenter = 0xffff,
};
struct Action {
    ActionType type{};
    std::uint32_t port = 0;        // output
    std::uint16_t max_len = 0;     // output to CONTROLLER
    std::uint16_t ethertype = 0;   // push_vlan / push_mpls / pop_mpls / push_pbb
    std::uint32_t arg = 0;         // group_id, queue_id, ttl; experimenter: the Nicira subtype (kNxPopQueue)
    Oxm field;                     // set_field
    bool operator==(const Action&) const = default;
};
using Actions = std::vector<Action>;
// The one experimenter action understood: Open vSwitch's NXAST_POP_QUEUE (Nicira vendor id, subtype
// 5, 16 bytes), which ovs-ofctl appends to `enqueue` in OpenFlow 1.1+ (set_queue, output, pop_queue).
inline constexpr std::uint32_t kNxVendorId = 0x00002320;
inline constexpr std::uint16_t kNxPopQueue = 5;

enum class InstructionType : std::uint16_t {
    kGotoTable = 1, kWriteMetadata = 2, kWriteActions = 3, kApplyActions = 4, kClearActions = 5, kMeter = 6,
};
struct Instruction {
    InstructionType type{};
    std::uint8_t table_id = 0;                         // goto_table
    std::uint64_t metadata = 0, metadata_mask = 0;     // write_metadata
    std::uint32_t meter_id = 0;                        // meter
    Actions actions;                                   // write/apply actions
    bool operator==(const Instruction&) const = default;
};

// ---- Messages ---------------------------------------------------------------------------------

// Hello with the versionbitmap element (6.3.1): bit N set = version N spoken. 0: no bitmap.
struct Hello {
    std::uint8_t version = kVersion;  // the header's version (negotiation without a bitmap)
    std::uint32_t bitmap = 1u << kVersion;
    bool operator==(const Hello&) const = default;
};
struct Error {
    std::uint16_t type = 0, code = 0;
    std::string data;
    bool operator==(const Error&) const = default;
};
struct EchoRequest { std::string data; bool operator==(const EchoRequest&) const = default; };
struct EchoReply { std::string data; bool operator==(const EchoReply&) const = default; };
struct Experimenter {
    std::uint32_t experimenter = 0, exp_type = 0;
    bool operator==(const Experimenter&) const = default;
};
struct FeaturesRequest { bool operator==(const FeaturesRequest&) const = default; };
struct FeaturesReply {
    std::uint64_t datapath_id = 0;
    std::uint32_t n_buffers = 0;
    std::uint8_t n_tables = 254;
    std::uint32_t capabilities = 0;  // OFPC_FLOW_STATS 1, TABLE_STATS 2, PORT_STATS 4
    bool operator==(const FeaturesReply&) const = default;
};
struct GetConfigRequest { bool operator==(const GetConfigRequest&) const = default; };
struct SwitchConfig {  // get_config_reply and set_config (7.3.2)
    std::uint16_t flags = 0;
    std::uint16_t miss_send_len = 128;
    bool operator==(const SwitchConfig&) const = default;
};
struct GetConfigReply : SwitchConfig {};
struct SetConfig : SwitchConfig {};

enum PacketInReason : std::uint8_t { kNoMatch = 0, kAction = 1, kInvalidTtl = 2 };
struct PacketIn {
    std::uint32_t buffer_id = kNoBuffer;
    std::uint16_t total_len = 0;
    std::uint8_t reason = kNoMatch;
    std::uint8_t table_id = 0;
    std::uint64_t cookie = 0;
    Match match;
    std::string data;
    bool operator==(const PacketIn&) const = default;
};
enum RemovedReason : std::uint8_t { kIdleTimeout = 0, kHardTimeout = 1, kDelete = 2, kGroupDelete = 3 };
struct FlowRemoved {
    std::uint64_t cookie = 0;
    std::uint16_t priority = 0;
    std::uint8_t reason = kDelete;
    std::uint8_t table_id = 0;
    std::uint32_t duration_sec = 0, duration_nsec = 0;
    std::uint16_t idle_timeout = 0, hard_timeout = 0;
    std::uint64_t packet_count = 0, byte_count = 0;
    Match match;
    bool operator==(const FlowRemoved&) const = default;
};
// ofp_port (7.2.1).
inline constexpr std::uint32_t kPortConfigDown = 1;  // OFPPC_PORT_DOWN
inline constexpr std::uint32_t kPortStateLinkDown = 1;  // OFPPS_LINK_DOWN
inline constexpr std::uint32_t kPortStateLive = 4;      // OFPPS_LIVE
struct Port {
    std::uint32_t port_no = 0;
    std::array<std::uint8_t, 6> hw_addr{};
    std::string name;  // at most 15 bytes on the wire
    std::uint32_t config = 0, state = 0, curr = 0, advertised = 0, supported = 0, peer = 0;
    std::uint32_t curr_speed = 0, max_speed = 0;  // kbps
    bool operator==(const Port&) const = default;
};
enum PortReason : std::uint8_t { kPortAdd = 0, kPortDelete = 1, kPortModify = 2 };
struct PortStatus {
    std::uint8_t reason = kPortAdd;
    Port desc;
    bool operator==(const PortStatus&) const = default;
};
struct PacketOut {
    std::uint32_t buffer_id = kNoBuffer;
    std::uint32_t in_port = kPortController;
    Actions actions;
    std::string data;
    bool operator==(const PacketOut&) const = default;
};
enum FlowModCommand : std::uint8_t { kAdd = 0, kModify = 1, kModifyStrict = 2, kDeleteCmd = 3, kDeleteStrict = 4 };
enum FlowModFlags : std::uint16_t {
    kSendFlowRem = 1, kCheckOverlap = 2, kResetCounts = 4, kNoPktCounts = 8, kNoBytCounts = 16,
};
struct FlowMod {
    std::uint64_t cookie = 0, cookie_mask = 0;
    std::uint8_t table_id = 0;
    std::uint8_t command = kAdd;
    std::uint16_t idle_timeout = 0, hard_timeout = 0;
    std::uint16_t priority = 0x8000;
    std::uint32_t buffer_id = kNoBuffer;
    std::uint32_t out_port = kPortAny, out_group = kGroupAny;
    std::uint16_t flags = 0;
    Match match;
    std::vector<Instruction> instructions;
    bool operator==(const FlowMod&) const = default;
};

// Multipart (7.3.5). Types this codec decodes; others are refused with BAD_MULTIPART.
enum MultipartType : std::uint16_t {
    kMpDesc = 0, kMpFlow = 1, kMpAggregate = 2, kMpTable = 3, kMpPortStats = 4, kMpQueue = 5, kMpGroup = 6,
    kMpGroupDesc = 7, kMpGroupFeatures = 8, kMpMeter = 9, kMpMeterConfig = 10, kMpMeterFeatures = 11,
    kMpTableFeatures = 12, kMpPortDesc = 13, kMpExperimenter = 0xffff,
};
inline constexpr std::uint16_t kMoreFlag = 1;  // OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE
struct FlowStatsRequest {  // flow and aggregate
    std::uint8_t table_id = kTableAll;
    std::uint32_t out_port = kPortAny, out_group = kGroupAny;
    std::uint64_t cookie = 0, cookie_mask = 0;
    Match match;
    bool operator==(const FlowStatsRequest&) const = default;
};
struct MultipartRequest {
    std::uint16_t type = kMpDesc;
    std::uint16_t flags = 0;
    FlowStatsRequest flow;            // kMpFlow, kMpAggregate
    std::uint32_t port_no = kPortAny; // kMpPortStats
    std::uint32_t group_id = kGroupAny;  // kMpGroup (OFPG_ALL or OFPG_ANY: every group)
    std::uint32_t meter_id = 0xffffffff;  // kMpMeter, kMpMeterConfig (OFPM_ALL)
    bool operator==(const MultipartRequest&) const = default;
};
struct Desc {
    std::string mfr_desc, hw_desc, sw_desc, serial_num, dp_desc;
    bool operator==(const Desc&) const = default;
};
struct FlowStats {
    std::uint8_t table_id = 0;
    std::uint32_t duration_sec = 0, duration_nsec = 0;
    std::uint16_t priority = 0, idle_timeout = 0, hard_timeout = 0, flags = 0;
    std::uint64_t cookie = 0, packet_count = 0, byte_count = 0;
    Match match;
    std::vector<Instruction> instructions;
    bool operator==(const FlowStats&) const = default;
};
struct AggregateStats {
    std::uint64_t packet_count = 0, byte_count = 0;
    std::uint32_t flow_count = 0;
    bool operator==(const AggregateStats&) const = default;
};
struct TableStats {
    std::uint8_t table_id = 0;
    std::uint32_t active_count = 0;
    std::uint64_t lookup_count = 0, matched_count = 0;
    bool operator==(const TableStats&) const = default;
};
struct PortStats {
    std::uint32_t port_no = 0;
    std::uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0, rx_dropped = 0, tx_dropped = 0;
    std::uint64_t rx_errors = 0, tx_errors = 0;
    std::uint32_t duration_sec = 0, duration_nsec = 0;
    bool operator==(const PortStats&) const = default;
};
// One table's ofp_table_features (7.3.5.5.1) with its properties: ids of instructions, actions,
// OXM headers (class << 16 | field << 9 | length) and next tables. Encoded only.
struct TableFeatures {
    std::uint8_t table_id = 0;
    std::string name;
    std::uint64_t metadata_match = 0, metadata_write = 0;
    std::uint32_t config = 0, max_entries = 0;
    std::vector<std::uint16_t> instructions;
    std::vector<std::uint8_t> next_tables;
    std::vector<std::uint16_t> write_actions, apply_actions;
    std::vector<std::uint32_t> match, wildcards, write_setfield, apply_setfield;
    bool operator==(const TableFeatures&) const = default;
};

// Groups (7.3.4.2 ofp_group_mod and ofp_bucket; 7.3.5.9-11 group stats, desc, features).
enum GroupModCommand : std::uint16_t { kGcAdd = 0, kGcModify = 1, kGcDelete = 2 };  // OFPGC_*
enum GroupType : std::uint8_t { kGroupAll = 0, kGroupSelect = 1, kGroupIndirect = 2, kGroupFastFailover = 3 };
inline constexpr std::uint32_t kGroupMaxId = 0xffffff00;  // OFPG_MAX
inline constexpr std::uint32_t kGroupAllId = 0xfffffffc;  // OFPG_ALL
struct Bucket {
    std::uint16_t weight = 0;
    std::uint32_t watch_port = kPortAny, watch_group = kGroupAny;
    Actions actions;
    bool operator==(const Bucket&) const = default;
};
struct GroupMod {
    std::uint16_t command = kGcAdd;
    std::uint8_t type = kGroupAll;
    std::uint32_t group_id = 0;
    std::vector<Bucket> buckets;
    bool operator==(const GroupMod&) const = default;
};
struct BucketCounter {
    std::uint64_t packet_count = 0, byte_count = 0;
    bool operator==(const BucketCounter&) const = default;
};
struct GroupStats {
    std::uint32_t group_id = 0, ref_count = 0;
    std::uint64_t packet_count = 0, byte_count = 0;
    std::uint32_t duration_sec = 0, duration_nsec = 0;
    std::vector<BucketCounter> buckets;
    bool operator==(const GroupStats&) const = default;
};
struct GroupDesc {
    std::uint8_t type = kGroupAll;
    std::uint32_t group_id = 0;
    std::vector<Bucket> buckets;
    bool operator==(const GroupDesc&) const = default;
};
struct GroupFeatures {
    std::uint32_t types = 0, capabilities = 0;  // bit per GroupType; OFPGFC_* bits
    std::array<std::uint32_t, 4> max_groups{}, actions{};  // by GroupType; actions: bit per ActionType
    bool operator==(const GroupFeatures&) const = default;
};
// Meters (7.3.4.4 meter_mod, 7.3.5.12-14 multipart meter, meter_config, meter_features).
inline constexpr std::uint32_t kMeterAll = 0xffffffff;  // OFPM_ALL
enum MeterModCommand : std::uint16_t { kMeterAdd = 0, kMeterModify = 1, kMeterDelete = 2 };
enum MeterBandType : std::uint16_t { kBandDrop = 1, kBandDscpRemark = 2, kBandExperimenter = 0xffff };
struct MeterBand {  // ofp_meter_band_drop / _dscp_remark / _experimenter: 16 bytes each
    std::uint16_t type = kBandDrop;
    std::uint32_t rate = 0, burst_size = 0;
    std::uint8_t prec_level = 0;     // dscp_remark
    std::uint32_t experimenter = 0;  // experimenter
    bool operator==(const MeterBand&) const = default;
};
struct MeterMod {
    std::uint16_t command = kMeterAdd;
    std::uint16_t flags = 0;  // OFPMF_KBPS 1, PKTPS 2, BURST 4, STATS 8
    std::uint32_t meter_id = 0;
    std::vector<MeterBand> bands;
    bool operator==(const MeterMod&) const = default;
};
struct MeterBandStats {
    std::uint64_t packet_band_count = 0, byte_band_count = 0;
    bool operator==(const MeterBandStats&) const = default;
};
struct MeterStats {
    std::uint32_t meter_id = 0, flow_count = 0;
    std::uint64_t packet_in_count = 0, byte_in_count = 0;
    std::uint32_t duration_sec = 0, duration_nsec = 0;
    std::vector<MeterBandStats> bands;
    bool operator==(const MeterStats&) const = default;
};
struct MeterConfig {
    std::uint16_t flags = 0;
    std::uint32_t meter_id = 0;
    std::vector<MeterBand> bands;
    bool operator==(const MeterConfig&) const = default;
};
struct MeterFeatures {
    std::uint32_t max_meter = 0, band_types = 0, capabilities = 0;
    std::uint8_t max_bands = 0, max_color = 0;
    bool operator==(const MeterFeatures&) const = default;
};

// Only the member of `type` is encoded/decoded.
struct MultipartReply {
    std::uint16_t type = kMpDesc;
    std::uint16_t flags = 0;
    Desc desc;
    std::vector<FlowStats> flows;
    AggregateStats aggregate;
    std::vector<TableStats> tables;
    std::vector<PortStats> ports;
    std::vector<Port> port_descs;
    std::vector<TableFeatures> table_features;
    std::vector<GroupStats> groups;        // kMpGroup
    std::vector<GroupDesc> group_descs;    // kMpGroupDesc
    GroupFeatures group_features;          // kMpGroupFeatures
    std::vector<MeterStats> meter_stats;
    std::vector<MeterConfig> meter_configs;
    MeterFeatures meter_features;
    bool operator==(const MultipartReply&) const = default;
};
struct BarrierRequest { bool operator==(const BarrierRequest&) const = default; };
struct BarrierReply { bool operator==(const BarrierReply&) const = default; };

// Controller roles (6.3.5, 7.3.9).
enum ControllerRole : std::uint32_t { kRoleNoChange = 0, kRoleEqual = 1, kRoleMaster = 2, kRoleSlave = 3 };
struct Role {
    std::uint32_t role = kRoleNoChange;
    std::uint64_t generation_id = 0;
    bool operator==(const Role&) const = default;
};
struct RoleRequest : Role {};
struct RoleReply : Role {};
// Asynchronous message filters (7.3.10): bit N of a mask enables reason N; [0] applies to a
// master or equal controller, [1] to a slave.
struct AsyncConfig {
    std::array<std::uint32_t, 2> packet_in_mask{0x7, 0x0};
    std::array<std::uint32_t, 2> port_status_mask{0x7, 0x7};
    std::array<std::uint32_t, 2> flow_removed_mask{0xf, 0x0};
    bool operator==(const AsyncConfig&) const = default;
};
struct GetAsyncRequest { bool operator==(const GetAsyncRequest&) const = default; };
struct GetAsyncReply : AsyncConfig {};
struct SetAsync : AsyncConfig {};

// ofp_port_mod (7.3.3): 40 bytes. config/mask are ofp_port_config bits (OFPPC_*; NO_FLOOD, bit
// 4, is OpenFlow 1.0's, kept as Open vSwitch keeps it); `advertise` 0 means "do not change".
inline constexpr std::uint32_t kPortConfigNoRecv = 1u << 2, kPortConfigNoFlood = 1u << 4,
                               kPortConfigNoFwd = 1u << 5, kPortConfigNoPacketIn = 1u << 6;
struct PortMod {
    std::uint32_t port_no = 0;
    std::array<std::uint8_t, 6> hw_addr{};
    std::uint32_t config = 0, mask = 0, advertise = 0;
    bool operator==(const PortMod&) const = default;
};
// ofp_table_mod (7.3.3): 16 bytes; in 1.3 every config bit is deprecated (OFPTC_DEPRECATED_MASK).
struct TableMod {
    std::uint8_t table_id = 0;
    std::uint32_t config = 0;
    bool operator==(const TableMod&) const = default;
};

using Body = std::variant<Hello, Error, EchoRequest, EchoReply, Experimenter, FeaturesRequest, FeaturesReply,
                          GetConfigRequest, GetConfigReply, SetConfig, PacketIn, FlowRemoved, PortStatus, PacketOut,
                          FlowMod, MultipartRequest, MultipartReply, BarrierRequest, BarrierReply, RoleRequest,
                          RoleReply, GetAsyncRequest, GetAsyncReply, SetAsync, GroupMod, MeterMod, PortMod, TableMod>;

struct Message {
    std::uint32_t xid = 0;
    Body body;
    bool operator==(const Message&) const = default;
};

// The ofp_type of a body, and its name for logs ("OFPT_FLOW_MOD").
Type typeOf(const Body& body);
std::string_view typeName(std::uint8_t type);

// The wire bytes of a message (version 4). Throws std::length_error when it would exceed 65535
// bytes (callers split multipart replies: see splitMultipart).
std::string encode(const Message& msg);

// A multipart reply's bodies split over several messages of at most ~64 KiB each, every one but
// the last with OFPMPF_REPLY_MORE.
std::vector<std::string> encodeMultipart(std::uint32_t xid, const MultipartReply& reply);

// Why a message could not be decoded: the error type and code the spec names, a message for the
// log, and the xid (0 if the header was short).
struct DecodeError {
    std::uint16_t type = kBadRequest;
    std::uint16_t code = code::kBadLen;
    std::string message;
    std::uint32_t xid = 0;
};

// The total length a frame starting with `header` (at least 8 bytes) declares.
std::uint16_t frameLength(std::string_view header);

// Decodes one complete message (the frame's bytes, exactly its declared length). Hello is
// accepted with any version (negotiation, 6.3.1); every other message must carry version 4.
std::variant<Message, DecodeError> decode(std::string_view frame);

// The error message answering `offending` (its xid, the first kErrorDataBytes bytes quoted).
Message makeError(std::uint16_t type, std::uint16_t code, std::string_view offending);

// Match prerequisites (7.2.3.6): the name of the first field whose prerequisite is missing,
// or nullopt.
std::optional<std::string> checkPrerequisites(const Match& m);
std::string_view oxmName(OxmField f);

}  // namespace vs::protocol::of13
