#include "protocol/jsonrpc.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace vs::protocol {

std::string toJson(const rapidjson::Value& v) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    v.Accept(w);
    return std::string(sb.GetString(), sb.GetSize());
}

std::optional<std::string> checkJsonDepth(std::string_view text, std::size_t maxDepth) {
    std::size_t depth = 0;
    bool inString = false, escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (inString) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > maxDepth)
                return "nesting deeper than " + std::to_string(maxDepth) + " levels at offset " + std::to_string(i);
        } else if ((c == ']' || c == '}') && depth) {
            --depth;
        }
    }
    return std::nullopt;
}

// A validating writer that writes nowhere useful: it fails on the first string that is not UTF-8.
bool isValidUtf8(const rapidjson::Value& v) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator,
                      rapidjson::kWriteValidateEncodingFlag>
        w(sb);
    return v.Accept(w);
}

static std::string idText(const rapidjson::Value& doc) {
    if (!doc.IsObject()) return "null";
    auto it = doc.FindMember("id");
    if (it == doc.MemberEnd()) return "null";
    const auto& id = it->value;
    if (id.IsString() || id.IsNumber() || id.IsNull()) return toJson(id);
    return "null";
}

std::optional<DecodeError> decodeRequest(std::string_view line, Request& out) {
    if (auto deep = checkJsonDepth(line)) return DecodeError{ErrorCode::kParseError, "parse error: " + *deep, "null"};
    // Messages are UTF-8 (docs/protocol.md): anything else would be stored in the config and make
    // the strict loader refuse the file at the next start.
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
    if (doc.HasParseError()) {
        return DecodeError{ErrorCode::kParseError,
                           std::string("parse error at offset ") + std::to_string(doc.GetErrorOffset()) +
                               ": " + rapidjson::GetParseError_En(doc.GetParseError()),
                           "null"};
    }
    if (!isValidUtf8(doc))
        return DecodeError{ErrorCode::kParseError, "parse error: a string is not valid UTF-8 (a lone surrogate escape?)",
                           "null"};
    std::string id = idText(doc);
    if (!doc.IsObject()) return DecodeError{ErrorCode::kInvalidRequest, "request is not a JSON object", id};
    auto ver = doc.FindMember("jsonrpc");
    if (ver == doc.MemberEnd() || !ver->value.IsString() || std::string_view(ver->value.GetString()) != "2.0")
        return DecodeError{ErrorCode::kInvalidRequest, "field 'jsonrpc' must be \"2.0\"", id};
    auto m = doc.FindMember("method");
    if (m == doc.MemberEnd() || !m->value.IsString())
        return DecodeError{ErrorCode::kInvalidRequest, "field 'method' must be a string", id};
    auto idIt = doc.FindMember("id");
    if (idIt != doc.MemberEnd() && !(idIt->value.IsString() || idIt->value.IsNumber() || idIt->value.IsNull()))
        return DecodeError{ErrorCode::kInvalidRequest, "field 'id' must be a string, number or null", "null"};
    out.method = m->value.GetString();
    out.id = idIt == doc.MemberEnd() ? std::string() : id;
    out.params.SetNull();
    auto p = doc.FindMember("params");
    if (p != doc.MemberEnd()) {
        if (!p->value.IsObject() && !p->value.IsArray())
            return DecodeError{ErrorCode::kInvalidRequest, "field 'params' must be an object or array", id};
        out.params.CopyFrom(p->value, out.params.GetAllocator());
    }
    return std::nullopt;
}

std::optional<std::string> decodeResponse(std::string_view line, Response& out) {
    if (auto deep = checkJsonDepth(line)) return "malformed response: " + *deep;
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError()) return std::string("malformed response: ") + rapidjson::GetParseError_En(doc.GetParseError());
    if (!doc.IsObject()) return std::string("malformed response: not an object");
    out.id = idText(doc);
    auto r = doc.FindMember("result");
    auto e = doc.FindMember("error");
    if (r != doc.MemberEnd()) {
        out.ok = true;
        out.result.CopyFrom(r->value, out.result.GetAllocator());
        return std::nullopt;
    }
    if (e == doc.MemberEnd() || !e->value.IsObject()) return std::string("malformed response: neither result nor error");
    out.ok = false;
    auto c = e->value.FindMember("code");
    auto msg = e->value.FindMember("message");
    if (c == e->value.MemberEnd() || !c->value.IsInt() || msg == e->value.MemberEnd() || !msg->value.IsString())
        return std::string("malformed response: error lacks code or message");
    out.code = c->value.GetInt();
    out.message = msg->value.GetString();
    auto d = e->value.FindMember("data");
    out.data.SetNull();
    if (d != e->value.MemberEnd()) out.data.CopyFrom(d->value, out.data.GetAllocator());
    return std::nullopt;
}

std::string encodeRequest(std::string_view method, const rapidjson::Value& params, std::uint64_t id) {
    std::string s = "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(id) + ",\"method\":";
    rapidjson::Value m(method.data(), static_cast<rapidjson::SizeType>(method.size()));
    s += toJson(m);
    if (!params.IsNull()) s += ",\"params\":" + toJson(params);
    s += "}";
    return s;
}

std::string encodeResult(std::string_view id, const rapidjson::Value& result) {
    std::string s = "{\"jsonrpc\":\"2.0\",\"id\":";
    s += id.empty() ? std::string_view("null") : id;
    s += ",\"result\":" + toJson(result) + "}";
    return s;
}

std::string encodeError(std::string_view id, int code, std::string_view message, const rapidjson::Value* data) {
    rapidjson::Value m(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    std::string s = "{\"jsonrpc\":\"2.0\",\"id\":";
    s += id.empty() ? std::string_view("null") : id;
    s += ",\"error\":{\"code\":" + std::to_string(code) + ",\"message\":" + toJson(m);
    if (data) s += ",\"data\":" + toJson(*data);
    s += "}}";
    return s;
}

std::string encodeError(std::string_view id, ErrorCode code, std::string_view message, const rapidjson::Value* data) {
    return encodeError(id, static_cast<int>(code), message, data);
}

}  // namespace vs::protocol
