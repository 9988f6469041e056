// OpenFlow 1.3 groups on the wire (OpenFlow 1.3.5 section 7.3.4.2 "Modify Group Entry Message",
// 7.3.5.9 "Group Statistics", 7.3.5.10 "Group Description", 7.3.5.11 "Group Features").
#include "protocol/of13_detail.h"

namespace vs::protocol::of13::detail {

namespace {

constexpr std::size_t kBucketHeader = 16;  // ofp_bucket without its actions

std::vector<Bucket> readBuckets(Reader& r) {
    std::vector<Bucket> out;
    while (r.left() > 0) {
        std::uint16_t len = r.u16("bucket");
        if (len < kBucketHeader || len % 8 != 0)
            fail(kGroupModFailed, code::kGmBadBucket, "bucket length " + std::to_string(len) + " is not a multiple of 8 of at least 16");
        if (len - 2u > r.left())
            fail(kGroupModFailed, code::kGmBadBucket, "bucket length " + std::to_string(len) + " runs past the message");
        Reader body(r.bytes(len - 2u, "bucket"), kGroupModFailed, code::kGmBadBucket);
        Bucket b;
        b.weight = body.u16("bucket");
        b.watch_port = body.u32("bucket");
        b.watch_group = body.u32("bucket");
        body.skip(4, "bucket padding");
        b.actions = readActions(body.rest());
        out.push_back(std::move(b));
    }
    return out;
}

void writeBuckets(Writer& w, const std::vector<Bucket>& buckets) {
    for (const auto& b : buckets) {
        std::size_t start = w.size();
        w.u16(0);
        w.u16(b.weight);
        w.u32(b.watch_port);
        w.u32(b.watch_group);
        w.zeros(4);
        writeActions(w, b.actions);
        w.put16At(start, static_cast<std::uint16_t>(w.size() - start));
    }
}

}  // namespace

// ofp_group_mod: command, type, pad, group_id, buckets. An unknown command is GROUP_MOD_FAILED/
// BAD_COMMAND; an unknown type is left to the switch (BAD_TYPE, ofproto/group.h).
GroupMod readGroupMod(std::string_view frame, Reader& r) {
    if (frame.size() < 16)
        fail(kBadRequest, code::kBadLen, "OFPT_GROUP_MOD of " + std::to_string(frame.size()) + " bytes, expected at least 16");
    GroupMod g;
    g.command = r.u16("group_mod");
    g.type = r.u8("group_mod");
    r.skip(1, "group_mod");
    g.group_id = r.u32("group_mod");
    if (g.command > kGcDelete)
        fail(kGroupModFailed, code::kGmBadCommand, "group_mod command " + std::to_string(g.command) + " is not add, modify or delete");
    g.buckets = readBuckets(r);
    return g;
}

void writeGroupMod(Writer& w, const GroupMod& g) {
    w.u16(g.command);
    w.u8(g.type);
    w.zeros(1);
    w.u32(g.group_id);
    writeBuckets(w, g.buckets);
}

void writeGroupStats(Writer& w, const GroupStats& g) {
    std::size_t start = w.size();
    w.u16(0);
    w.zeros(2);
    w.u32(g.group_id);
    w.u32(g.ref_count);
    w.zeros(4);
    w.u64(g.packet_count);
    w.u64(g.byte_count);
    w.u32(g.duration_sec);
    w.u32(g.duration_nsec);
    for (const auto& b : g.buckets) {
        w.u64(b.packet_count);
        w.u64(b.byte_count);
    }
    w.put16At(start, static_cast<std::uint16_t>(w.size() - start));
}

void writeGroupDesc(Writer& w, const GroupDesc& g) {
    std::size_t start = w.size();
    w.u16(0);
    w.u8(g.type);
    w.zeros(1);
    w.u32(g.group_id);
    writeBuckets(w, g.buckets);
    w.put16At(start, static_cast<std::uint16_t>(w.size() - start));
}

void writeGroupFeatures(Writer& w, const GroupFeatures& f) {
    w.u32(f.types);
    w.u32(f.capabilities);
    for (std::uint32_t v : f.max_groups) w.u32(v);
    for (std::uint32_t v : f.actions) w.u32(v);
}

}  // namespace vs::protocol::of13::detail
