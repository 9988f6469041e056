// The exception a management-protocol method handler throws to answer with a JSON-RPC error object
// (docs/protocol.md "Error codes"). MgmtServer turns it into
// `{"error":{"code":code,"message":what(),"data":*data}}`; any other std::exception becomes -32603
// with its what() text.
//
// Thread-safety: an immutable value (the data document is shared read-only between copies).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.h"

namespace vs::vswitchd {

struct RpcError : std::runtime_error {
    int code;
    std::shared_ptr<const rapidjson::Document> data;  // nullptr: no "data" member

    RpcError(int c, const std::string& message, std::shared_ptr<const rapidjson::Document> d = nullptr)
        : std::runtime_error(message), code(c), data(std::move(d)) {}
    RpcError(protocol::ErrorCode c, const std::string& message,
             std::shared_ptr<const rapidjson::Document> d = nullptr)
        : RpcError(static_cast<int>(c), message, std::move(d)) {}

    std::string message() const { return what(); }
};

}  // namespace vs::vswitchd
