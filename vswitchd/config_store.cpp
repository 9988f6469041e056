#include "vswitchd/config_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "vswitchd/config_json.h"
#include "vswitchd/config_ops.h"
#include "vswitchd/log.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kConfig;  // vlog/set module
}

namespace vs::vswitchd {
namespace fs = std::filesystem;
namespace {

class UniqueFd {
public:
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

std::string errnoText(int e) { return std::strerror(e); }

// Reads the whole file. nullopt if it does not exist; throws ConfigError on other errors.
std::optional<std::string> readFile(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw ConfigError("cannot read config file " + path.string() + ": " + errnoText(errno) +
                          "; refusing to start");
    }
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            throw ConfigError("cannot read config file " + path.string() + ": " + errnoText(errno) +
                              "; refusing to start");
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

bool writeAll(int fd, const std::string& text) {
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

// Writes and fsyncs `tmp`. Returns an error message or nullopt.
std::optional<std::string> writeTemp(const fs::path& tmp, const std::string& text) {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640));
    if (fd.get() < 0) return "cannot create " + tmp.string() + ": " + errnoText(errno);
    if (!writeAll(fd.get(), text)) return "cannot write " + tmp.string() + ": " + errnoText(errno);
    if (::fsync(fd.get()) != 0) return "cannot fsync " + tmp.string() + ": " + errnoText(errno);
    if (::close(fd.release()) != 0) return "cannot close " + tmp.string() + ": " + errnoText(errno);
    return std::nullopt;
}

}  // namespace

std::optional<std::string> writeFileDurably(const fs::path& path, const std::string& text) {
    fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return "cannot create directory " + dir.string() + ": " + ec.message();
    fs::path tmp = path;
    tmp += ".tmp";
    if (auto problem = writeTemp(tmp, text)) {
        ::unlink(tmp.c_str());
        return problem;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string problem = "cannot rename " + tmp.string() + " to " + path.string() + ": " + errnoText(errno);
        ::unlink(tmp.c_str());
        return problem;
    }
    // Point of no return: PATH is the new file. See config_store.h on a failing directory fsync.
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() < 0 || ::fsync(dfd.get()) != 0)
        log::err(kLog, "cannot fsync directory {} after replacing {}: {}", dir.string(), path.string(), errnoText(errno));
    return std::nullopt;
}

RpcError TransactError::toRpcError() const {
    std::shared_ptr<rapidjson::Document> data;
    if (opIndex >= 0) {
        data = std::make_shared<rapidjson::Document>(rapidjson::kObjectType);
        data->AddMember("op_index", opIndex, data->GetAllocator());
    }
    return RpcError(code, message, std::move(data));
}

ConfigStore::ConfigStore(fs::path path, Config cfg)
    : path_(std::move(path)), cfg_(std::move(cfg)), journal_(fs::path(path_.string() + ".journal")),
      flow_store_(fs::path(path_.string() + ".flows")) {}


// The config path must be a regular file (or not exist yet) that nobody but its owner and group
// can write, in a directory others cannot write either: replacing it by rename would otherwise
// clobber a device node (a config path of /dev/null once turned /dev/null into a plain file), and
// a world-writable config would let any local user rewire the switch.
static void checkConfigPath(const fs::path& abs) {
    struct stat st {};
    if (::lstat(abs.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            throw ConfigError("config file " + abs.string() + " is not a regular file; refusing to start");
        if (st.st_mode & S_IWOTH)
            throw ConfigError("config file " + abs.string() + " is world-writable; refusing to start (chmod o-w it)");
    }
    fs::path dir = abs.parent_path();
    if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
        throw ConfigError("config directory " + dir.string() + " is world-writable; refusing to start");
}

ConfigStore ConfigStore::open(const fs::path& path) {
    fs::path abs = fs::absolute(path).lexically_normal();
    checkConfigPath(abs);
    std::optional<std::string> text = readFile(abs);
    Config cfg;
    if (!text) {
        log::info(kLog, "config file {} does not exist; starting with an empty configuration", abs.string());
    } else {
        try {
            cfg = configFromFileText(*text);
        } catch (const ConfigFormatError& e) {
            throw ConfigError("config file " + abs.string() + " is corrupt: " + e.what() +
                              "; refusing to start (the file is left in place)");
        }
        fs::path tmp = abs;
        tmp += ".tmp";
        if (fs::exists(tmp))
            log::info(kLog, "ignoring {} left by an interrupted commit (it will be overwritten)", tmp.string());
    }
    ConfigStore store(abs, std::move(cfg));
    store.snapshot_exists_ = text.has_value();
    store.restored_flows_ = store.flow_store_.load();
    store.flow_seq_ = store.flow_snapshot_seq_ = store.restored_flows_.flow_seq;
    store.replayJournal();
    if (text) log::info(kLog, "loaded config file {} (seq {}, {} bridges)", abs.string(), store.cfg_.seq, store.cfg_.bridges.size());
    return store;
}

// Applies the journal's records after the snapshot's seq, in order. Records at or below it are
// already in the snapshot (a crash between a snapshot and the journal reset).
void ConfigStore::replayJournal() {
    std::size_t n = 0;
    for (const auto& line : journal_.load()) {
        ++n;
        auto corrupt = [&](const std::string& why) {
            return ConfigError("config journal " + journal_.path().string() + " is corrupt: record " +
                               std::to_string(n) + ": " + why + "; refusing to start (the files are left in place)");
        };
        if (auto deep = protocol::checkJsonDepth(line)) throw corrupt(*deep);  // RapidJSON recurses
        rapidjson::Document d;
        d.Parse(line.c_str(), line.size());
        if (!d.HasParseError() && d.IsObject() && d.HasMember("flow_seq")) {
            replayFlowRecord(d, corrupt);
            continue;
        }
        bool whole = !d.HasParseError() && d.IsObject() && d.HasMember("config") && d["config"].IsObject();
        if (d.HasParseError() || !d.IsObject() || !d.HasMember("seq") || !d["seq"].IsUint64() ||
            (!whole && (!d.HasMember("ops") || !d["ops"].IsArray())))
            throw corrupt("not a {\"seq\":N,\"ops\":[...]} or {\"seq\":N,\"config\":{...}} record");
        std::uint64_t seq = d["seq"].GetUint64();
        // The resets count from the flows file's cursor, which may be ahead of the config file's.
        if (auto r = d.FindMember("flow_resets"); r != d.MemberEnd() && seq > restored_flows_.config_seq) {
            if (!r->value.IsObject()) throw corrupt("flow_resets: expected an object");
            for (const auto& m : r->value.GetObject()) {
                if (!m.value.IsBool()) throw corrupt("flow_resets: expected booleans");
                restored_events_.push_back(
                    FlowEvent{FlowEvent::Kind::kReset, m.name.GetString(), m.value.GetBool(), {}, {}});
            }
        }
        if (seq <= cfg_.seq) continue;
        if (seq != cfg_.seq + 1) throw corrupt("seq " + std::to_string(seq) + " does not follow " + std::to_string(cfg_.seq));
        try {
            if (whole) cfg_ = configFromJson(d["config"]);  // a change made in C++ (modify())
            else applyOps(cfg_, d["ops"]);
        } catch (const OpError& e) {
            throw corrupt(std::string("does not apply: ") + e.what());
        } catch (const ConfigFormatError& e) {
            throw corrupt(std::string("invalid config: ") + e.what());
        }
        cfg_.seq = seq;
    }
    if (n) log::info(kLog, "replayed {} journal records from {} (seq {})", n, journal_.path().string(), cfg_.seq);
}

// {"flow_seq":M,"mods":[[bridge,command,text],...]}: events after the flows file's cursor.
void ConfigStore::replayFlowRecord(const rapidjson::Document& d,
                                   const std::function<ConfigError(const std::string&)>& corrupt) {
    const auto& fs = d["flow_seq"];
    if (!fs.IsUint64() || !d.HasMember("mods") || !d["mods"].IsArray())
        throw corrupt("not a {\"flow_seq\":M,\"mods\":[...]} record");
    std::uint64_t seq = fs.GetUint64();
    if (seq <= restored_flows_.flow_seq) return;  // the flows file holds it
    if (seq != flow_seq_ + 1)
        throw corrupt("flow_seq " + std::to_string(seq) + " does not follow " + std::to_string(flow_seq_));
    for (const auto& m : d["mods"].GetArray()) {
        if (!m.IsArray() || m.Size() != 3 || !m[0].IsString() || !m[1].IsString() || !m[2].IsString() ||
            !isFlowCommandName(m[1].GetString()))
            throw corrupt("mods: expected [bridge, command, text] with a known command");
        restored_events_.push_back(FlowEvent{FlowEvent::Kind::kMod, m[0].GetString(), false, m[1].GetString(),
                                             std::string(m[2].GetString(), m[2].GetStringLength())});
    }
    flow_seq_ = seq;
}

void ConfigStore::dropRestoredFlows() {
    restored_flows_.bridges.clear();
    restored_events_.clear();
    restored_events_.shrink_to_fit();
}

std::optional<std::string> ConfigStore::appendFlowMods(const std::vector<JournaledFlowMod>& mods) {
    if (mods.empty()) return std::nullopt;
    rapidjson::Document rec(rapidjson::kObjectType);
    auto& a = rec.GetAllocator();
    rec.AddMember("flow_seq", flow_seq_ + 1, a);
    rapidjson::Value arr(rapidjson::kArrayType);
    arr.Reserve(static_cast<rapidjson::SizeType>(mods.size()), a);
    for (const auto& m : mods) {
        rapidjson::Value one(rapidjson::kArrayType);
        one.PushBack(rapidjson::Value(m.bridge.c_str(), static_cast<rapidjson::SizeType>(m.bridge.size()), a), a);
        one.PushBack(rapidjson::Value(m.command.c_str(), static_cast<rapidjson::SizeType>(m.command.size()), a), a);
        one.PushBack(rapidjson::Value(m.text.c_str(), static_cast<rapidjson::SizeType>(m.text.size()), a), a);
        arr.PushBack(one, a);
    }
    rec.AddMember("mods", arr, a);
    if (auto problem = journal_.append(protocol::toJson(rec))) {
        log::err(kLog, "flow change {} failed: {}", flow_seq_ + 1, *problem);
        return problem;
    }
    ++flow_seq_;
    if (!hooks_.snapshot) compactIfDue();
    return std::nullopt;
}

TransactResult ConfigStore::transact(const rapidjson::Value& ops) {
    Config next = cfg_;
    try {
        applyOps(next, ops);
    } catch (const OpError& e) {
        return TransactResult{TransactError{e.code, e.what(), e.opIndex}, cfg_.seq, false};
    }
    next.seq = cfg_.seq;
    if (next == cfg_) return TransactResult{std::nullopt, cfg_.seq, false};
    FlowResets resets = hooks_.resets ? hooks_.resets(cfg_, next) : FlowResets{};
    if (!snapshot_exists_ && resets.empty()) return commit(std::move(next));  // the first commit creates the file
    if (auto failed = ensureSnapshot()) return *failed;
    return commitJournaled(std::move(next), "ops", ops, resets);
}

// A journal record needs a snapshot under it: the first commit that must be journaled (it resets
// flow tables) writes the current, possibly empty, config first.
std::optional<TransactResult> ConfigStore::ensureSnapshot() {
    if (snapshot_exists_) return std::nullopt;
    if (auto problem = writeFileDurably(path_, configToFileText(cfg_)))
        return TransactResult{TransactError{protocol::ErrorCode::kPersistFailed,
                                            "could not save the configuration: " + *problem + "; nothing changed"},
                              cfg_.seq, false};
    snapshot_exists_ = true;
    return std::nullopt;
}

TransactResult ConfigStore::commitJournaled(Config next, const char* kind, const rapidjson::Value& change,
                                            const FlowResets& resets) {
    next.seq = cfg_.seq + 1;
    rapidjson::Document rec(rapidjson::kObjectType);
    rec.AddMember("seq", next.seq, rec.GetAllocator());
    rapidjson::Value copy(change, rec.GetAllocator());
    rec.AddMember(rapidjson::StringRef(kind), copy, rec.GetAllocator());
    if (!resets.empty()) {
        rapidjson::Value r(rapidjson::kObjectType);
        for (const auto& [bridge, keep_normal] : resets)
            r.AddMember(rapidjson::Value(bridge.c_str(), rec.GetAllocator()), rapidjson::Value(keep_normal),
                        rec.GetAllocator());
        rec.AddMember("flow_resets", r, rec.GetAllocator());
    }
    if (auto problem = journal_.append(protocol::toJson(rec))) {
        log::err(kLog, "commit of seq {} failed: {}", next.seq, *problem);
        return TransactResult{TransactError{protocol::ErrorCode::kPersistFailed,
                                            "could not save the configuration: " + *problem + "; nothing changed"},
                              cfg_.seq, false};
    }
    cfg_ = std::move(next);
    if (!hooks_.snapshot) compactIfDue();
    return TransactResult{std::nullopt, cfg_.seq, true};
}

// Every 256 commits (or 2 MiB of journal) the snapshot takes them in and the journal restarts.
// A failure here loses nothing: the journal still holds every commit.
void ConfigStore::compactIfDue() {
    if (journal_.records() < 256 && journal_.bytes() < (2u << 20)) return;
    compact();
}

// The flows file first, then the config file, then the journal (see the header).
void ConfigStore::compact() {
    if (journal_.records() == 0) return;
    if (!hooks_.snapshot && flow_seq_ != flow_snapshot_seq_) return;  // flow records no flows file holds
    if (auto problem = snapshotNow()) log::err(kLog, "snapshot of seq {} failed (the journal keeps it): {}", cfg_.seq, *problem);
}

std::optional<std::string> ConfigStore::snapshotNow() {
    if (hooks_.snapshot) {
        if (auto problem = flow_store_.save(FlowSnapshot{hooks_.snapshot(), cfg_.seq, flow_seq_}))
            return "flow tables: " + *problem;
        flow_snapshot_seq_ = flow_seq_;
    }
    if (auto problem = writeFileDurably(path_, configToFileText(cfg_))) return *problem;
    if (auto problem = journal_.reset()) log::err(kLog, "could not reset {}: {}", journal_.path().string(), *problem);
    return std::nullopt;
}

TransactResult ConfigStore::modify(const std::function<void(Config&)>& change) {
    Config next = cfg_;
    try {
        change(next);
    } catch (const OpError& e) {
        return TransactResult{TransactError{e.code, e.what(), e.opIndex}, cfg_.seq, false};
    }
    next.seq = cfg_.seq;
    if (next == cfg_) return TransactResult{std::nullopt, cfg_.seq, false};
    FlowResets resets = hooks_.resets ? hooks_.resets(cfg_, next) : FlowResets{};
    if (resets.empty()) return commit(std::move(next));
    // The resets must be durable in the same record as the change, or a crash before the next
    // compaction could bring a deleted bridge's rules back: a journal record with the whole config.
    if (auto failed = ensureSnapshot()) return *failed;
    rapidjson::Document whole;
    std::string text = configToFileText(next);
    whole.Parse(text.c_str(), text.size());
    return commitJournaled(std::move(next), "config", whole, resets);
}

TransactResult ConfigStore::commit(Config next) {
    next.seq = cfg_.seq + 1;
    if (auto problem = writeFileDurably(path_, configToFileText(next))) {
        log::err(kLog, "commit of seq {} failed: {}", next.seq, *problem);
        return TransactResult{TransactError{protocol::ErrorCode::kPersistFailed,
                                            "could not save the configuration: " + *problem + "; nothing changed"},
                              cfg_.seq, false};
    }
    cfg_ = std::move(next);
    snapshot_exists_ = true;
    if (flow_seq_ != flow_snapshot_seq_) return TransactResult{std::nullopt, cfg_.seq, true};  // keep them
    if (auto problem = journal_.reset()) log::err(kLog, "could not reset {}: {}", journal_.path().string(), *problem);
    return TransactResult{std::nullopt, cfg_.seq, true};
}

}  // namespace vs::vswitchd
