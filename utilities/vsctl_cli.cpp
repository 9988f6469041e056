#include "utilities/vsctl_cli.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ostream>

namespace vs::utilities {

std::string defaultSocketPath() {
    const char* env = std::getenv("VSWITCH_SOCKET");
    if (env && *env) return env;
    return protocol::kDefaultSocket;
}

OutputFormat parseFormat(std::string_view text) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "json") return OutputFormat::kJson;
    if (lower == "text") return OutputFormat::kText;
    throw CliError("unknown output format '" + std::string(text) + "' (use json or text)");
}

double parseTimeout(std::string_view text) {
    std::string s(text);
    char* end = nullptr;
    double v = s.empty() ? -1 : std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v > 86400.0 * 365)
        throw CliError("invalid timeout '" + s + "' (expected a non-negative number of seconds)");
    return v;
}

ClientRpc::ClientRpc(const CommonOptions& options, std::ostream& log)
    : log_(log), verbose_(options.verbose) {
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(std::ceil(options.timeoutSeconds * 1000)));
    const auto start = protocol::Client::Clock::now();
    client_.emplace(protocol::Client::connect(options.socket, timeout));
    if (timeout.count() > 0) client_->setDeadline(start + timeout);
}

protocol::Response ClientRpc::call(std::string_view method, const rapidjson::Value& params) {
    if (verbose_) log_ << "-> " << method << " " << protocol::toJson(params) << "\n";
    protocol::Response response = client_->call(method, params);
    if (verbose_) {
        if (response.ok)
            log_ << "<- " << protocol::toJson(response.result) << "\n";
        else
            log_ << "<- error " << response.code << ": " << response.message << "\n";
    }
    return response;
}

std::string jsonLine(const rapidjson::Value& v) { return protocol::toJson(v) + "\n"; }

}  // namespace vs::utilities
