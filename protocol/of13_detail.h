// Internal helpers of the OpenFlow 1.3 codec (of13*.cpp): a bounds-checked big-endian reader that
// throws a DecodeError-carrying exception, and a writer. Not part of the public interface.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "protocol/of13.h"

namespace vs::protocol::of13::detail {

// Thrown inside the decoder; decode() turns it into a DecodeError.
struct Fail {
    std::uint16_t type, code;
    std::string message;
};
[[noreturn]] inline void fail(std::uint16_t type, std::uint16_t c, std::string message) {
    throw Fail{type, c, std::move(message)};
}

class Reader {
public:
    // `type`/`code`: the error to report when a read runs past the end.
    Reader(std::string_view data, std::uint16_t type = kBadRequest, std::uint16_t c = code::kBadLen)
        : d_(data), err_type_(type), err_code_(c) {}
    std::size_t left() const { return d_.size() - pos_; }
    std::size_t pos() const { return pos_; }
    void need(std::size_t n, const char* what) const {
        if (left() < n)
            fail(err_type_, err_code_,
                 std::string(what) + ": needs " + std::to_string(n) + " bytes, " + std::to_string(left()) + " left");
    }
    std::uint8_t u8(const char* what) { need(1, what); return static_cast<std::uint8_t>(d_[pos_++]); }
    std::uint16_t u16(const char* what) { return static_cast<std::uint16_t>(be(2, what)); }
    std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(be(4, what)); }
    std::uint64_t u64(const char* what) { return be(8, what); }
    std::string_view bytes(std::size_t n, const char* what) {
        need(n, what);
        auto s = d_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    void skip(std::size_t n, const char* what) { bytes(n, what); }
    std::string_view rest() { auto s = d_.substr(pos_); pos_ = d_.size(); return s; }

private:
    std::uint64_t be(int n, const char* what) {
        need(static_cast<std::size_t>(n), what);
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(d_[pos_++]);
        return v;
    }
    std::string_view d_;
    std::size_t pos_ = 0;
    std::uint16_t err_type_, err_code_;
};

class Writer {
public:
    void u8(std::uint64_t v) { s_.push_back(static_cast<char>(v & 0xff)); }
    void u16(std::uint64_t v) { be(v, 2); }
    void u32(std::uint64_t v) { be(v, 4); }
    void u64(std::uint64_t v) { be(v, 8); }
    void zeros(std::size_t n) { s_.append(n, '\0'); }
    void bytes(std::string_view b) { s_.append(b); }
    void bytes(const std::uint8_t* p, std::size_t n) { s_.append(reinterpret_cast<const char*>(p), n); }
    // A fixed-size NUL-padded string field (names, descriptions), truncated to leave a NUL.
    void fixedString(std::string_view s, std::size_t n) {
        std::size_t k = std::min(s.size(), n - 1);
        s_.append(s.substr(0, k));
        zeros(n - k);
    }
    void padTo8() { zeros((8 - s_.size() % 8) % 8); }
    std::size_t size() const { return s_.size(); }
    void put16At(std::size_t at, std::uint16_t v) {
        s_[at] = static_cast<char>(v >> 8);
        s_[at + 1] = static_cast<char>(v & 0xff);
    }
    std::string& str() { return s_; }

private:
    void be(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    std::string s_;
};

// Match (ofp_match, OXM) and the TLV lists of of13_tlv.cpp.
Match readMatch(Reader& r);          // consumes the match and its padding
void writeMatch(Writer& w, const Match& m);
Actions readActions(std::string_view bytes);
void writeActions(Writer& w, const Actions& a);
std::vector<Instruction> readInstructions(std::string_view bytes);
void writeInstructions(Writer& w, const std::vector<Instruction>& ins);
Port readPort(Reader& r);
void writePort(Writer& w, const Port& p);
// Groups (of13_group.cpp): group_mod's body after the header, and the group multipart bodies.
GroupMod readGroupMod(std::string_view frame, Reader& r);
void writeGroupMod(Writer& w, const GroupMod& g);
void writeGroupStats(Writer& w, const GroupStats& g);
void writeGroupDesc(Writer& w, const GroupDesc& g);
void writeGroupFeatures(Writer& w, const GroupFeatures& f);
// Meters (of13_meter.cpp).
MeterMod readMeterMod(Reader& r);
void writeMeterMod(Writer& w, const MeterMod& m);
void writeMeterStats(Writer& w, const MeterStats& s);
void writeMeterConfig(Writer& w, const MeterConfig& c);
void writeMeterFeatures(Writer& w, const MeterFeatures& f);
// Port mod (of13_port.cpp): the body after the header.
PortMod readPortMod(std::string_view frame, Reader& r);
void writePortMod(Writer& w, const PortMod& m);
TableMod readTableMod(std::string_view frame, Reader& r);
void writeTableMod(Writer& w, const TableMod& m);

}  // namespace vs::protocol::of13::detail
