// The config store: the daemon's one committed Config, changed only by all-or-nothing
// transactions (docs/protocol.md "transact"), each made durable in the config file before it is
// acknowledged.
//
// Durability and crash safety. Commits made with ops (transact) are appended to a write-ahead
// journal, PATH.journal, and made durable there before they are acknowledged (config_journal.h);
// the config file is the snapshot the journal applies to, rewritten every few hundred commits and
// for commits made in C++ (modify). A snapshot write works as follows: it writes the whole new
// config to PATH.tmp, fsync()s it,
// rename()s it over PATH and fsync()s the directory, and only then swaps the new config in:
//  - rename(2) replaces the directory entry atomically, so at every instant PATH names either the
//    complete previous file or the complete new one, never a mix; the previous PATH is the last
//    good copy until the rename, and no separate backup is needed.
//  - the fsync of the data before the rename means that if the rename survives a crash, so does
//    the data it points to (no zero-length file after power loss on delayed-allocation
//    filesystems).
//  - the fsync of the directory makes the rename itself durable before the client gets its reply:
//    an acknowledged transaction is never lost.
//  - a crash before the rename leaves at most a partial PATH.tmp, which is never read and is
//    overwritten by the next commit. If writing, fsync or rename fails the transaction fails with
//    kPersistFailed and neither the file nor the in-memory config changes. (A failure of the final
//    directory fsync, after the rename, is logged: the new file is already in place and the commit
//    stands, since undoing it could only make memory and file disagree.)
// On open, a PATH that does not parse or validate (torn by something else, edited by hand, disk
// corruption) is refused with ConfigError naming the file, the JSON path and the problem; the file
// is never modified, moved or deleted, so the operator can inspect or repair it.
//
// Thread-safety: none; the daemon's control thread owns the store. config() returns a reference
// that stays valid until the next successful transact().
// Lifecycle: ConfigStore::open() at start (throws ConfigError); transact() per request.
#pragma once

#include "vswitchd/config_journal.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.h"
#include "vswitchd/config_model.h"
#include "vswitchd/rpc_error.h"

namespace vs::vswitchd {

// The config file cannot be used: "config file /x/y.json is corrupt: <problem>; refusing to start
// (the file is left in place)", or "cannot read config file ...".
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Why a transaction failed. Nothing was changed.
struct TransactError {
    protocol::ErrorCode code;
    std::string message;  // names the problem and the field, e.g. "no bridge named br9"
    int opIndex = -1;     // 0-based index of the failing op; -1 when not op-specific (persist failed)

    // The protocol error: {code, message, data: {"op_index": N}} (data omitted when opIndex < 0).
    RpcError toRpcError() const;
};

struct TransactResult {
    std::optional<TransactError> error;  // set: the transaction failed and nothing changed
    std::uint64_t seq = 0;               // the config's seq after the transaction
    bool changed = false;                // false for failures and for transactions that changed nothing
    bool ok() const { return !error; }
};

class ConfigStore {
public:
    // Loads the config file at `path` (made absolute). A missing file means an empty config with
    // seq 0; the file (and its directory) is created on the first commit. Throws ConfigError if the
    // file cannot be read or is corrupt/invalid; the file is left untouched.
    static ConfigStore open(const std::filesystem::path& path);

    const Config& config() const { return cfg_; }
    std::uint64_t seq() const { return cfg_.seq; }
    const std::filesystem::path& path() const { return path_; }

    // Applies `ops` (a JSON array of op objects, docs/protocol.md) to a copy of the config. On the
    // first failing op: returns its error, nothing changes. On success: if the config changed, bumps
    // seq, writes the file durably (on failure: kPersistFailed, nothing changes) and swaps the new
    // config in. A transaction that changes nothing succeeds without writing or bumping seq.
    TransactResult transact(const rapidjson::Value& ops);

    // The same for a change made in C++ (`change` may throw OpError to fail with that error).
    TransactResult modify(const std::function<void(Config&)>& change);

    // Commits appended to PATH.journal since the last snapshot.
    std::size_t journalRecords() const { return journal_.records(); }

private:
    ConfigStore(std::filesystem::path path, Config cfg);
    TransactResult commit(Config next);
    TransactResult commitJournaled(Config next, const rapidjson::Value& ops);
    void replayJournal();
    void compactIfDue();

    std::filesystem::path path_;
    Config cfg_;
    ConfigJournal journal_;
    bool snapshot_exists_ = false;
};

// Writes `text` to `path` durably and atomically (PATH.tmp, fsync, rename, fsync(dir)), creating
// the directory if needed. Returns an error message, or nullopt on success.
std::optional<std::string> writeFileDurably(const std::filesystem::path& path, const std::string& text);

}  // namespace vs::vswitchd
