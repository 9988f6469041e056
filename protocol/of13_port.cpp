// OpenFlow 1.3 port_mod on the wire (OpenFlow 1.3.5 section 7.3.3 "Port Modification Message").
#include "protocol/of13_detail.h"

namespace vs::protocol::of13::detail {

inline constexpr std::size_t kPortModLen = 40;  // ofp_port_mod, header included

PortMod readPortMod(std::string_view frame, Reader& r) {
    if (frame.size() != kPortModLen)
        fail(kBadRequest, code::kBadLen, "OFPT_PORT_MOD of " + std::to_string(frame.size()) + " bytes, expected 40");
    PortMod m;
    m.port_no = r.u32("port_mod");
    r.skip(4, "port_mod padding");
    auto mac = r.bytes(6, "port_mod hw_addr");
    for (std::size_t i = 0; i < 6; ++i) m.hw_addr[i] = static_cast<std::uint8_t>(mac[i]);
    r.skip(2, "port_mod padding");
    m.config = r.u32("port_mod");
    m.mask = r.u32("port_mod");
    m.advertise = r.u32("port_mod");
    return m;
}

void writePortMod(Writer& w, const PortMod& m) {
    w.u32(m.port_no);
    w.zeros(4);
    w.bytes(m.hw_addr.data(), m.hw_addr.size());
    w.zeros(2);
    w.u32(m.config);
    w.u32(m.mask);
    w.u32(m.advertise);
    w.zeros(4);
}

// Table mod (7.3.3): table_id, 3 bytes of padding, config.
TableMod readTableMod(std::string_view frame, Reader& r) {
    if (frame.size() != 16)
        fail(kBadRequest, code::kBadLen, "OFPT_TABLE_MOD of " + std::to_string(frame.size()) + " bytes, expected 16");
    TableMod m;
    m.table_id = r.u8("table_mod");
    r.skip(3, "table_mod padding");
    m.config = r.u32("table_mod");
    return m;
}

void writeTableMod(Writer& w, const TableMod& m) {
    w.u8(m.table_id);
    w.zeros(3);
    w.u32(m.config);
}

}  // namespace vs::protocol::of13::detail
