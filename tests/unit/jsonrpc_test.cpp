// JSON-RPC 2.0 line codec (protocol/jsonrpc.h).
#include "protocol/jsonrpc.h"

#include <gtest/gtest.h>

namespace vs::protocol {
namespace {

std::optional<DecodeError> decode(std::string_view line, Request& req) { return decodeRequest(line, req); }

TEST(JsonrpcDecode, GoodRequestWithObjectParams) {
    Request req;
    auto err = decode(R"({"jsonrpc":"2.0","id":7,"method":"transact","params":{"ops":[]}})", req);
    ASSERT_FALSE(err) << err->message;
    EXPECT_EQ(req.method, "transact");
    EXPECT_EQ(req.id, "7");
    ASSERT_TRUE(req.params.IsObject());
    EXPECT_TRUE(req.params["ops"].IsArray());
}

TEST(JsonrpcDecode, StringIdAndArrayParams) {
    Request req;
    ASSERT_FALSE(decode(R"({"jsonrpc":"2.0","id":"a\"b","method":"m","params":[1,2]})", req));
    EXPECT_EQ(req.id, R"("a\"b")");
    ASSERT_TRUE(req.params.IsArray());
    EXPECT_EQ(req.params.Size(), 2u);
}

TEST(JsonrpcDecode, NullIdIsARequestNotANotification) {
    Request req;
    ASSERT_FALSE(decode(R"({"jsonrpc":"2.0","id":null,"method":"m"})", req));
    EXPECT_EQ(req.id, "null");
}

TEST(JsonrpcDecode, NotificationHasEmptyIdAndNullParams) {
    Request req;
    ASSERT_FALSE(decode(R"({"jsonrpc":"2.0","method":"version"})", req));
    EXPECT_TRUE(req.id.empty());
    EXPECT_TRUE(req.params.IsNull());
}

TEST(JsonrpcDecode, GarbageIsParseError) {
    for (std::string_view line : {"hello", "{", R"({"jsonrpc":"2.0",)", "", "{} {}"}) {
        Request req;
        auto err = decode(line, req);
        ASSERT_TRUE(err) << line;
        EXPECT_EQ(err->code, ErrorCode::kParseError) << line;
        EXPECT_EQ(err->id, "null");
    }
}

TEST(JsonrpcDecode, NonObjectIsInvalidRequest) {
    Request req;
    auto err = decode("[1,2,3]", req);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->code, ErrorCode::kInvalidRequest);
}

TEST(JsonrpcDecode, WrongOrMissingVersion) {
    for (std::string_view line : {R"({"jsonrpc":"1.0","id":1,"method":"m"})", R"({"id":1,"method":"m"})",
                                  R"({"jsonrpc":2.0,"id":1,"method":"m"})"}) {
        Request req;
        auto err = decode(line, req);
        ASSERT_TRUE(err) << line;
        EXPECT_EQ(err->code, ErrorCode::kInvalidRequest);
        EXPECT_EQ(err->id, "1") << "the id is echoed when it could be read";
        EXPECT_NE(err->message.find("jsonrpc"), std::string::npos) << err->message;
    }
}

TEST(JsonrpcDecode, MissingOrNonStringMethod) {
    for (std::string_view line : {R"({"jsonrpc":"2.0","id":1})", R"({"jsonrpc":"2.0","id":1,"method":5})"}) {
        Request req;
        auto err = decode(line, req);
        ASSERT_TRUE(err);
        EXPECT_EQ(err->code, ErrorCode::kInvalidRequest);
        EXPECT_NE(err->message.find("method"), std::string::npos);
    }
}

TEST(JsonrpcDecode, BadIdTypes) {
    for (std::string_view line : {R"({"jsonrpc":"2.0","id":[1],"method":"m"})", R"({"jsonrpc":"2.0","id":{},"method":"m"})",
                                  R"({"jsonrpc":"2.0","id":true,"method":"m"})"}) {
        Request req;
        auto err = decode(line, req);
        ASSERT_TRUE(err) << line;
        EXPECT_EQ(err->code, ErrorCode::kInvalidRequest);
        EXPECT_EQ(err->id, "null");
        EXPECT_NE(err->message.find("'id'"), std::string::npos);
    }
}

TEST(JsonrpcDecode, ParamsMustBeObjectOrArray) {
    for (std::string_view line : {R"({"jsonrpc":"2.0","id":1,"method":"m","params":"x"})",
                                  R"({"jsonrpc":"2.0","id":1,"method":"m","params":3})",
                                  R"({"jsonrpc":"2.0","id":1,"method":"m","params":null})"}) {
        Request req;
        auto err = decode(line, req);
        ASSERT_TRUE(err) << line;
        EXPECT_EQ(err->code, ErrorCode::kInvalidRequest);
        EXPECT_NE(err->message.find("params"), std::string::npos);
    }
}

TEST(JsonrpcEncode, RequestRoundTrip) {
    rapidjson::Document params(rapidjson::kObjectType);
    params.AddMember("bridge", "br0", params.GetAllocator());
    std::string line = encodeRequest("fdb/show", params, 42);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    Request req;
    ASSERT_FALSE(decode(line, req));
    EXPECT_EQ(req.method, "fdb/show");
    EXPECT_EQ(req.id, "42");
    EXPECT_STREQ(req.params["bridge"].GetString(), "br0");

    rapidjson::Value none;
    line = encodeRequest("version", none, 1);
    Request req2;
    ASSERT_FALSE(decode(line, req2));
    EXPECT_TRUE(req2.params.IsNull());
}

TEST(JsonrpcEncode, ResultRoundTrip) {
    rapidjson::Document result(rapidjson::kObjectType);
    result.AddMember("seq", 3, result.GetAllocator());
    result.AddMember("text", "line1\nline2", result.GetAllocator());
    std::string line = encodeResult("\"abc\"", result);
    EXPECT_EQ(line.find('\n'), std::string::npos) << "newlines inside strings are escaped";
    Response resp;
    ASSERT_FALSE(decodeResponse(line, resp));
    EXPECT_TRUE(resp.ok);
    EXPECT_EQ(resp.id, "\"abc\"");
    EXPECT_EQ(resp.result["seq"].GetInt(), 3);
    EXPECT_STREQ(resp.result["text"].GetString(), "line1\nline2");
}

TEST(JsonrpcEncode, EmptyIdEncodesAsNull) {
    rapidjson::Value v(1);
    Response resp;
    ASSERT_FALSE(decodeResponse(encodeResult("", v), resp));
    EXPECT_EQ(resp.id, "null");
}

TEST(JsonrpcEncode, ErrorRoundTripWithData) {
    rapidjson::Document data(rapidjson::kObjectType);
    data.AddMember("op_index", 2, data.GetAllocator());
    std::string line = encodeError("5", ErrorCode::kNotFound, "no bridge named \"br9\"", &data);
    Response resp;
    ASSERT_FALSE(decodeResponse(line, resp));
    EXPECT_FALSE(resp.ok);
    EXPECT_EQ(resp.id, "5");
    EXPECT_EQ(resp.code, -32001);
    EXPECT_EQ(resp.message, "no bridge named \"br9\"");
    ASSERT_TRUE(resp.data.IsObject());
    EXPECT_EQ(resp.data["op_index"].GetInt(), 2);
}

TEST(JsonrpcEncode, ErrorWithoutData) {
    Response resp;
    ASSERT_FALSE(decodeResponse(encodeError("null", -32700, "parse error"), resp));
    EXPECT_FALSE(resp.ok);
    EXPECT_EQ(resp.code, -32700);
    EXPECT_TRUE(resp.data.IsNull());
}

TEST(JsonrpcDecodeResponse, Malformed) {
    Response resp;
    EXPECT_TRUE(decodeResponse("nope", resp));
    EXPECT_TRUE(decodeResponse("[]", resp));
    EXPECT_TRUE(decodeResponse(R"({"jsonrpc":"2.0","id":1})", resp));
    EXPECT_TRUE(decodeResponse(R"({"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}})", resp));
    EXPECT_TRUE(decodeResponse(R"({"jsonrpc":"2.0","id":1,"error":{"code":1}})", resp));
}

TEST(JsonrpcToJson, CompactAndEscaped) {
    rapidjson::Document d;
    d.Parse(R"({ "a" : [ 1, "x\ty" ] })");
    EXPECT_EQ(toJson(d), R"({"a":[1,"x\ty"]})");
}

}  // namespace
}  // namespace vs::protocol
