#include "ovsdb/framing.h"

namespace vs::ovsdb {

std::optional<std::string> StreamFramer::next() {
    if (!error_.empty()) return std::nullopt;
    if (depth_ == 0 && scanned_ == 0) {  // skip whitespace between messages
        std::size_t start = buf_.find_first_not_of(" \t\r\n");
        buf_.erase(0, start == std::string::npos ? buf_.size() : start);
        if (buf_.empty()) return std::nullopt;
        if (buf_[0] != '{' && buf_[0] != '[') {
            error_ = "syntax error: a message must be a JSON object, found '" + std::string(1, buf_[0]) + "'";
            return std::nullopt;
        }
    }
    for (; scanned_ < buf_.size(); ++scanned_) {
        char c = buf_[scanned_];
        if (in_string_) {
            if (escape_) escape_ = false;
            else if (c == '\\') escape_ = true;
            else if (c == '"') in_string_ = false;
            continue;
        }
        if (c == '"') in_string_ = true;
        else if (c == '{' || c == '[') ++depth_;
        else if ((c == '}' || c == ']') && --depth_ == 0) {
            std::string msg = buf_.substr(0, scanned_ + 1);
            buf_.erase(0, scanned_ + 1);
            scanned_ = 0;
            return msg;
        }
    }
    if (buf_.size() > max_) error_ = "a message is larger than " + std::to_string(max_) + " bytes";
    return std::nullopt;
}

}  // namespace vs::ovsdb
