// The database path of one vsctl invocation: read, run, commit, print (see vsctl_db.h).
#include <algorithm>
#include <chrono>
#include <ostream>
#include <set>
#include <thread>

#include "ovsdb/vswitch_schema.h"
#include "utilities/vsctl_db.h"
#include "utilities/vsctl_value.h"

namespace vs::utilities {
namespace {

std::shared_ptr<const ovsdb::Schema> vswitchSchema() {
    static const auto schema = std::make_shared<const ovsdb::Schema>(ovsdb::parseSchema(ovsdb::vswitchSchemaText()));
    return schema;
}

bool oldTable(const std::string& name) {
    try {
        canonicalTable(name);
        return true;
    } catch (const CliError&) {
        return false;
    }
}

bool namedByUuidOrSymbol(const std::string& record) {
    return ovsdb::isUuidText(record) || record.starts_with("@") || record == ".";
}

// The first error object of a transact result and its index; nullptr when none.
const rapidjson::Value* txnError(const rapidjson::Value& result, std::size_t& index) {
    if (!result.IsArray()) return nullptr;
    for (rapidjson::SizeType i = 0; i < result.Size(); ++i)
        if (result[i].IsObject() && result[i].HasMember("error")) {
            index = i;
            return &result[i];
        }
    return nullptr;
}

std::string oneline(std::string text) {
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::string out;
    for (char c : text) out += c == '\n' ? std::string("\\n") : c == '\\' ? std::string("\\\\") : std::string(1, c);
    return out + "\n";
}

// After the commit: the `error` column of the interfaces this invocation inserted (vswitchd
// applies a transaction before answering it), reported as ovs-vsctl reports them. Returns the
// exit status.
int reportSetupErrors(const DbCall& call, const std::string& dbName, const std::vector<std::string>& ifaces,
                      std::ostream& err) {
    if (ifaces.empty()) return kExitOk;
    rapidjson::Document params(rapidjson::kArrayType);
    auto& a = params.GetAllocator();
    params.PushBack(rapidjson::Value(dbName.c_str(), a), a);
    for (const auto& u : ifaces) {
        rapidjson::Value op(rapidjson::kObjectType), where(rapidjson::kArrayType), cond(rapidjson::kArrayType),
            ref(rapidjson::kArrayType), cols(rapidjson::kArrayType);
        ref.PushBack("uuid", a).PushBack(rapidjson::Value(u.c_str(), a), a);
        cond.PushBack("_uuid", a).PushBack("==", a).PushBack(ref, a);
        where.PushBack(cond, a);
        cols.PushBack("name", a).PushBack("error", a);
        op.AddMember("op", "select", a).AddMember("table", "Interface", a).AddMember("where", where, a);
        op.AddMember("columns", cols, a);
        params.PushBack(op, a);
    }
    rapidjson::Document result = call("transact", params);
    int status = kExitOk;
    if (!result.IsArray()) return status;
    for (const auto& r : result.GetArray()) {
        if (!r.IsObject() || !r.HasMember("rows") || !r["rows"].IsArray()) continue;
        for (const auto& row : r["rows"].GetArray()) {
            if (!row.HasMember("error") || !row["error"].IsString() || !row.HasMember("name")) continue;
            std::string message = row["error"].GetString();
            while (!message.empty() && message.back() == '.') message.pop_back();
            err << "vsctl: Error detected while setting up '" << row["name"].GetString() << "': " << message << ".\n";
            status = kExitError;
        }
    }
    return status;
}

void replaceAll(std::string& s, const std::string& from, const std::string& to) {
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

// The commands the database path runs (vsctl_db.cpp, vsctl_db_bridge.cpp).
bool dbRuns(const std::string& name) {
    static const std::set<std::string> kNames = {
        "list", "find", "get", "set", "add", "remove", "clear", "create", "destroy", "wait-until", "add-br",
        "del-br", "list-br", "br-exists", "add-port", "del-port", "list-ports", "list-ifaces", "port-to-br",
        "iface-to-br", "set-controller", "get-controller", "del-controller", "set-fail-mode", "get-fail-mode",
        "del-fail-mode", "set-manager", "get-manager", "del-manager", "emer-reset"};
    return kNames.count(name) > 0;
}

// A read command after a modifying one: on the management-protocol path it would read after the
// commit (docs/vsctl.md "Order of evaluation"), so a failing read could not undo the change.
bool readsAfterWrites(const std::vector<Command>& commands) {
    bool modified = false;
    for (const auto& c : commands) {
        if (c.modifies) modified = true;
        else if (modified) return true;
    }
    return false;
}

}  // namespace

bool needsDatabase(const VsctlInvocation& inv) {
    if (inv.db.dbOption) return true;
    if (readsAfterWrites(inv.commands) &&
        std::all_of(inv.commands.begin(), inv.commands.end(), [](const Command& c) { return dbRuns(c.name); }))
        return true;
    for (const auto& c : inv.commands) {
        if (isDbOnlyCommand(c.name) || !c.options.id.empty() || c.options.all) return true;
        const bool generic = c.name == "list" || c.name == "get" || c.name == "set" || c.name == "clear" || c.name == "remove";
        if (!generic) continue;
        if (c.options.ifExists && c.name != "list" && c.name != "get") return true;
        if (c.args.empty() || !oldTable(c.args[0])) return true;
        for (const auto& col : c.options.columns)
            if (col == "_uuid") return true;
        if (c.name == "get")
            for (std::size_t i = 2; i < c.args.size(); ++i)
                if (c.args[i] == "_uuid") return true;
        if (c.name == "remove")  // KEY=VALUE pairs and {...}/[...] values: ovs-vsctl's remove
            for (std::size_t i = 3; i < c.args.size(); ++i)
                if (!c.args[i].starts_with("\"") && c.args[i].find_first_of("={[") != std::string::npos) return true;
        for (std::size_t i = 1; i < c.args.size() && (i == 1 || c.name == "list"); ++i)
            if (namedByUuidOrSymbol(c.args[i])) return true;
    }
    return false;
}

int runDbInvocation(const VsctlInvocation& inv, const DbCall& call, std::ostream& out, std::ostream& err) {
    using Clock = std::chrono::steady_clock;
    const auto schema = vswitchSchema();
    const auto start = Clock::now();
    for (int attempt = 0;; ++attempt) {
        ovsdb::Database base(schema);
        rapidjson::Document select = selectAllOps(*schema);
        loadReplica(call("transact", select), base);
        ovsdb::Database work = base;
        DbRun run = runDbCommands(work, inv.commands, inv.db.style);
        const bool expired = inv.common.timeoutSeconds > 0 &&
                             Clock::now() - start > std::chrono::duration<double>(inv.common.timeoutSeconds);
        if (run.waitUnsatisfied) {
            if (expired) throw CliError("timeout expired");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        for (const auto& w : run.warnings) err << "vsctl: warning: " << w << "\n";
        CommitPlan plan = planCommit(base, work);
        std::map<std::string, std::string> realUuid;
        if (!plan.ops.Empty() && !inv.db.dryRun) {
            rapidjson::Document params(rapidjson::kArrayType);
            auto& a = params.GetAllocator();
            params.PushBack(rapidjson::Value(schema->name.c_str(), a), a);
            for (auto& op : plan.ops.GetArray()) params.PushBack(rapidjson::Value(op, a), a);
            rapidjson::Document result = call("transact", params);
            std::size_t index = 0;
            if (const rapidjson::Value* e = txnError(result, index)) {
                const bool conflict = index < plan.ops.Size() && plan.ops[index]["op"] == "wait";
                if (conflict && !expired && attempt < 50) continue;  // another client changed what we read: start over
                throw CliError("transaction error: " + jsonText(*e, false));
            }
            for (const auto& [placeholder, op] : plan.insertOp)
                if (result.IsArray() && op < result.Size() && result[op].IsObject() && result[op].HasMember("uuid"))
                    realUuid[placeholder.s] = result[op]["uuid"][1].GetString();
        }
        std::vector<std::string> newIfaces;
        for (const auto& [placeholder, op] : plan.insertOp)
            if (work.tables.at("Interface").count(placeholder) && realUuid.count(placeholder.s))
                newIfaces.push_back(realUuid[placeholder.s]);
        for (std::size_t i = 0; i < run.outputs.size(); ++i) {
            std::string text = run.outputs[i];
            for (const auto& [from, to] : realUuid) replaceAll(text, from, to);
            // --oneline: each command that prints no table prints one line (tables as they are).
            out << (inv.db.oneline && !run.isTable[i] ? oneline(text) : text);
        }
        out.flush();
        // As ovs-vsctl: --no-wait skips the check of the new interfaces (vsctl_parse.h).
        const int setup = inv.db.noWait ? kExitOk : reportSetupErrors(call, schema->name, newIfaces, err);
        return setup != kExitOk ? setup : run.status;
    }
}

}  // namespace vs::utilities
