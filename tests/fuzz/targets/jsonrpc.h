// Fuzz entry point: the JSON-RPC 2.0 codec of the management protocol (protocol/jsonrpc.h). The
// input is one line as a client (decodeRequest) or a daemon (decodeResponse) would send it.
//
// Invariants: decoding never throws or crashes (deep nesting included: the codec must refuse it
// rather than recurse off the stack); a refused request gets -32700 or -32600 and an id that is a
// JSON scalar; an accepted request's id is empty (notification) or a string/number/null, its
// params are Null, an object or an array, and every string in them is valid UTF-8 (\u escapes
// included: the daemon stores them in a config file its loader must read back); what the daemon
// would answer (encodeResult / encodeError with that id) is one line that decodeResponse reads
// back with the same id, result, code and message; encodeRequest -> decodeRequest gives back
// method and params.
#pragma once

#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/jsonrpc.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

namespace detail {
inline bool isScalarId(const std::string& id) {
    rapidjson::Document d;
    d.Parse(id.c_str(), id.size());
    return !d.HasParseError() && (d.IsString() || d.IsNumber() || d.IsNull());
}
// a == b, except that doubles only need to be numbers on both sides: RapidJSON's default parser
// may round the last bit of a double it wrote itself (kParseFullPrecisionFlag is off), which no
// client of the protocol cares about. Recursion is bounded by kMaxJsonDepth (decode checks it).
inline bool sameJson(const rapidjson::Value& a, const rapidjson::Value& b) {
    if (a.IsDouble() || b.IsDouble()) return a.IsNumber() && b.IsNumber();
    if (a.IsArray() && b.IsArray()) {
        if (a.Size() != b.Size()) return false;
        for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
            if (!sameJson(a[i], b[i])) return false;
        return true;
    }
    if (a.IsObject() && b.IsObject()) {
        if (a.MemberCount() != b.MemberCount()) return false;
        for (auto i = a.MemberBegin(), j = b.MemberBegin(); i != a.MemberEnd(); ++i, ++j)
            if (!(i->name == j->name) || !sameJson(i->value, j->value)) return false;
        return true;
    }
    return a == b;
}
inline bool sameId(const std::string& a, const std::string& b) {
    rapidjson::Document da, db;
    da.Parse(a.c_str(), a.size());
    db.Parse(b.c_str(), b.size());
    return !da.HasParseError() && !db.HasParseError() && sameJson(da, db);
}
inline void checkOneLine(const char* kName, const std::string& s) {
    if (s.find('\n') != std::string::npos || s.find('\r') != std::string::npos)
        fuzzFail(kName, "an encoded message spans lines: " + excerpt(s));
}
}  // namespace detail

inline int jsonRpc(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "jsonrpc";
    const std::string_view line = asText(data, size);
    using protocol::ErrorCode;

    protocol::Request req;
    if (auto err = protocol::decodeRequest(line, req)) {
        if (err->code != ErrorCode::kParseError && err->code != ErrorCode::kInvalidRequest)
            fuzzFail(kName, "decodeRequest failed with code " + std::to_string(int(err->code)));
        if (err->message.empty()) fuzzFail(kName, "decodeRequest error without a message");
        if (!detail::isScalarId(err->id)) fuzzFail(kName, "error id is not a JSON scalar: " + excerpt(err->id));
        std::string reply = protocol::encodeError(err->id, err->code, err->message);
        detail::checkOneLine(kName, reply);
        protocol::Response resp;
        if (auto e = protocol::decodeResponse(reply, resp)) fuzzFail(kName, "own error reply does not decode: " + *e);
        if (resp.ok || resp.code != int(err->code) || !detail::sameId(resp.id, err->id))
            fuzzFail(kName, "own error reply decodes differently: " + excerpt(reply));
    } else {
        if (!req.id.empty() && !detail::isScalarId(req.id)) fuzzFail(kName, "request id is not a JSON scalar");
        if (!req.params.IsNull() && !req.params.IsObject() && !req.params.IsArray())
            fuzzFail(kName, "params neither null, object nor array");
        {  // Messages are UTF-8: what the daemon stores from params must be, or its config won't load.
            rapidjson::StringBuffer sb;
            rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator,
                              rapidjson::kWriteValidateEncodingFlag>
                w(sb);
            if (!req.params.Accept(w)) fuzzFail(kName, "accepted a request whose params are not valid UTF-8");
        }
        // The daemon's answers with this id.
        const std::string id = req.id.empty() ? "null" : req.id;
        std::string ok = protocol::encodeResult(id, req.params);
        detail::checkOneLine(kName, ok);
        protocol::Response r1;
        if (auto e = protocol::decodeResponse(ok, r1)) fuzzFail(kName, "own result reply does not decode: " + *e);
        if (!r1.ok || !detail::sameId(r1.id, id) || !detail::sameJson(r1.result, req.params))
            fuzzFail(kName, "own result reply decodes differently: " + excerpt(ok));
        std::string bad = protocol::encodeError(id, ErrorCode::kMethodNotFound, "unknown method '" + req.method + "'");
        detail::checkOneLine(kName, bad);
        protocol::Response r2;
        if (auto e = protocol::decodeResponse(bad, r2)) fuzzFail(kName, "own error reply does not decode: " + *e);
        if (r2.ok || r2.code != -32601 || r2.message != "unknown method '" + req.method + "'")
            fuzzFail(kName, "own error reply decodes differently: " + excerpt(bad));
        // A client's request with these method and params reads back the same.
        std::string out = protocol::encodeRequest(req.method, req.params, 7);
        detail::checkOneLine(kName, out);
        protocol::Request back;
        if (auto e = protocol::decodeRequest(out, back)) fuzzFail(kName, "own request does not decode: " + e->message);
        if (back.method != req.method || back.id != "7" || !detail::sameJson(back.params, req.params))
            fuzzFail(kName, "own request decodes differently: " + excerpt(out));
    }

    protocol::Response resp;
    if (!protocol::decodeResponse(line, resp) && !detail::isScalarId(resp.id))
        fuzzFail(kName, "response id is not a JSON scalar");
    return 0;
}

}  // namespace vs::fuzz
