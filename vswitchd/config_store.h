// The config store: the daemon's one committed Config, changed only by all-or-nothing
// transactions (docs/protocol.md "transact"), each made durable in the config file before it is
// acknowledged.
//
// The store also keeps the flow tables (issue #14 item 4: one durable store for config and rules):
// a batch of flow_mods is one journal record, {"flow_seq":M,"mods":[[bridge,command,text],...]},
// in the same journal as the config's transactions, so a flow change costs O(change) and one
// fdatasync, and the journal's order is the order the switch saw. A config record carries the flow
// tables it resets ("flow_resets": a deleted bridge, a fail-mode or controller change that flushes),
// so a bridge's deletion and its rules' deletion are one durable change: no crash or failed write
// can bring back a deleted bridge's rules on its namesake. The snapshot is the config file plus
// the flows file (flow_store.h), whose cursors (config_seq, flow_seq) say which records it holds;
// compaction writes the flows file first, then the config file, then empties the journal, so a
// crash between any two steps replays nothing twice. A restart restores the flows file and then
// replays restoredFlowEvents() in order (vswitchd/flow_journal.h).
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
#include "vswitchd/flow_store.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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

// One flow_mod as the journal keeps it: its bridge, its command (flowCommandName()) and its
// ovs-ofctl text with ports by number.
struct JournaledFlowMod {
    std::string bridge, command, text;
};

// What a restart does to the flow tables after restoring the flows file, in journal order.
struct FlowEvent {
    enum class Kind { kReset, kMod };
    Kind kind = Kind::kMod;
    std::string bridge;
    bool keep_normal = false;   // kReset: the tables end with only the default NORMAL rule (else empty)
    std::string command, text;  // kMod
};

// Bridge -> its flow tables are reset by a config transaction; true: to the default NORMAL rule.
using FlowResets = std::map<std::string, bool>;

struct FlowHooks {
    // The flow tables a transaction from `old` to `next` resets (deleted bridges; Open vSwitch's
    // flush on a change of controllers or fail mode). Must be what applying `next` does.
    std::function<FlowResets(const Config& old, const Config& next)> resets;
    // Every bridge's rules as they are now (the flows file's content, for compaction).
    std::function<FlowLines()> snapshot;
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

    // Flow tables. With hooks set, transactions record their resets, and compaction (which needs
    // the tables as they are after the caller applied a change) happens only in compactIfDue().
    void setFlowHooks(FlowHooks hooks) { hooks_ = std::move(hooks); }
    // Appends one record of `mods` durably (one fdatasync). On failure returns the problem and
    // nothing was recorded; the caller must not apply them.
    std::optional<std::string> appendFlowMods(const std::vector<JournaledFlowMod>& mods);
    // The flows file as loaded at open(), and the journal's flow events after it, in order.
    const FlowSnapshot& restoredFlows() const { return restored_flows_; }
    const std::vector<FlowEvent>& restoredFlowEvents() const { return restored_events_; }
    void dropRestoredFlows();
    // Folds the journal into the snapshot once it holds 256 records or 2 MiB. Failures are logged
    // and lose nothing (the journal keeps every record).
    void compactIfDue();
    // The same now, if the journal holds anything (a clean stop: the next start replays nothing).
    void compact();
    // Writes the snapshot (flows file, then config file) and resets the journal now, whatever the
    // journal holds: for flow changes that were applied but never journaled (a backlog dropped
    // while the disk failed), which only a snapshot of the tables as they are can record. Returns
    // the problem on failure (the old snapshot and the journal stay valid).
    std::optional<std::string> snapshotNow();

private:
    ConfigStore(std::filesystem::path path, Config cfg);
    TransactResult commit(Config next);
    // Appends {"seq":N,KIND:CHANGE,"flow_resets":{...}}: KIND "ops" (transact()) or "config", the
    // whole config file's document (modify(), whose change has no ops form).
    TransactResult commitJournaled(Config next, const char* kind, const rapidjson::Value& change,
                                   const FlowResets& resets);
    std::optional<TransactResult> ensureSnapshot();
    void replayJournal();
    void replayFlowRecord(const rapidjson::Document& d, const std::function<ConfigError(const std::string&)>& corrupt);

    std::filesystem::path path_;
    Config cfg_;
    ConfigJournal journal_;
    bool snapshot_exists_ = false;
    FlowStore flow_store_;
    FlowHooks hooks_;
    std::uint64_t flow_seq_ = 0;           // last flow record's flow_seq
    std::uint64_t flow_snapshot_seq_ = 0;  // flow_seq the flows file holds
    FlowSnapshot restored_flows_;
    std::vector<FlowEvent> restored_events_;
};

// The journal's names of flow_mod commands: "add", "modify", "modify_strict", "delete",
// "delete_strict" (ofproto::FlowMod::Command in that order; flow_journal.cpp holds the one table).
bool isFlowCommandName(const std::string& name);

// Writes `text` to `path` durably and atomically (PATH.tmp, fsync, rename, fsync(dir)), creating
// the directory if needed. Returns an error message, or nullopt on success.
std::optional<std::string> writeFileDurably(const std::filesystem::path& path, const std::string& text);

}  // namespace vs::vswitchd
