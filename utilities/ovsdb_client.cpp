#include "utilities/ovsdb_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "utilities/vsctl_cli.h"

namespace vs::utilities {
namespace {

std::string toText(const rapidjson::Value& v) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    v.Accept(w);
    return sb.GetString();
}

}  // namespace

std::string ovsdbSocketPath(const std::string& target) {
    if (target.starts_with("unix:")) return target.substr(5);
    if (target.find(':') == std::string::npos) return target;
    throw CliError("database target '" + target + "' is not supported (use unix:PATH)");
}

std::string defaultDbSocket(const std::string& mgmtSocket) {
    std::filesystem::path p(mgmtSocket);
    if (p.filename() == "vswitchd.sock") return (p.parent_path() / "db.sock").string();
    return mgmtSocket + ".db";
}

OvsdbClient::OvsdbClient(const std::string& target, std::optional<Clock::time_point> deadline)
    : target_(ovsdbSocketPath(target)), deadline_(deadline) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (target_.size() >= sizeof(addr.sun_path)) throw CliError("database socket path too long: " + target_);
    std::memcpy(addr.sun_path, target_.c_str(), target_.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw CliError(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        int e = errno;
        ::close(fd_);
        fd_ = -1;
        throw CliError("unix:" + target_ + ": database connection failed (" + std::strerror(e) + ")");
    }
}

OvsdbClient::~OvsdbClient() {
    if (fd_ >= 0) ::close(fd_);
}

int OvsdbClient::waitMs() const {
    if (!deadline_) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - Clock::now()).count();
    if (left <= 0) throw CliError("timeout expired");
    return static_cast<int>(left);
}

void OvsdbClient::sendText(const std::string& text) {
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::send(fd_, text.data() + off, text.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw CliError("unix:" + target_ + ": send failed (" + std::strerror(errno) + ")");
        off += static_cast<std::size_t>(n);
    }
}

rapidjson::Document OvsdbClient::readMessage() {
    for (;;) {
        if (auto msg = framer_.next()) {
            rapidjson::Document d;
            d.Parse(msg->c_str(), msg->size());
            if (d.HasParseError() || !d.IsObject()) throw CliError("unix:" + target_ + ": malformed reply");
            return d;
        }
        if (!framer_.error().empty()) throw CliError("unix:" + target_ + ": " + framer_.error());
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, waitMs());
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) throw CliError("timeout expired");
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw CliError("unix:" + target_ + ": connection closed by the database server");
        framer_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
}

rapidjson::Document OvsdbClient::call(const std::string& method, const rapidjson::Value& params) {
    const long id = nextId_++;
    rapidjson::Document req(rapidjson::kObjectType);
    auto& a = req.GetAllocator();
    req.AddMember("method", rapidjson::Value(method.c_str(), a), a);
    req.AddMember("params", rapidjson::Value(params, a), a);
    req.AddMember("id", rapidjson::Value(static_cast<int64_t>(id)), a);
    sendText(toText(req));
    for (;;) {
        rapidjson::Document msg = readMessage();
        auto m = msg.FindMember("method");
        if (m != msg.MemberEnd() && m->value.IsString()) {
            if (std::string_view(m->value.GetString()) == "echo" && msg.HasMember("id")) {
                rapidjson::Document rep(rapidjson::kObjectType);
                auto& ra = rep.GetAllocator();
                rep.AddMember("result", rapidjson::Value(msg["params"], ra), ra);
                rep.AddMember("error", rapidjson::Value(), ra);
                rep.AddMember("id", rapidjson::Value(msg["id"], ra), ra);
                sendText(toText(rep));
            }
            continue;  // a notification or a request we answered
        }
        auto i = msg.FindMember("id");
        if (i == msg.MemberEnd() || !i->value.IsInt64() || i->value.GetInt64() != id) continue;
        auto e = msg.FindMember("error");
        if (e != msg.MemberEnd() && !e->value.IsNull())
            throw CliError("unix:" + target_ + ": " + method + " failed: " + toText(e->value));
        rapidjson::Document result;
        auto r = msg.FindMember("result");
        if (r != msg.MemberEnd()) result.CopyFrom(r->value, result.GetAllocator());
        return result;
    }
}

}  // namespace vs::utilities
