#include "utilities/vsctl.h"

#include <ostream>
#include <set>

#include "utilities/ovsdb_client.h"
#include "utilities/vsctl_db.h"
#include "utilities/vsctl_read.h"

namespace vs::utilities {
namespace {

rapidjson::Document callOrThrow(RpcCaller& rpc, std::string_view method) {
    protocol::Response response = rpc.call(method, rapidjson::Value());
    if (!response.ok) throw CliError(response.message);
    return std::move(response.result);
}

// Fetches what the read commands in [begin, end) need.
Snapshot takeSnapshot(RpcCaller& rpc, const std::vector<Command>& cmds, std::size_t begin, std::size_t end) {
    bool wantGet = false, wantShow = false;
    for (std::size_t i = begin; i < end; ++i) {
        wantGet = wantGet || needsGet(cmds[i]);
        wantShow = wantShow || needsShow(cmds[i]);
    }
    Snapshot snap;
    if (wantGet) snap.setGet(callOrThrow(rpc, "get"));
    if (wantShow) snap.setShow(callOrThrow(rpc, "show"));
    return snap;
}

bool anyRead(const std::vector<Command>& cmds, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
        if (!cmds[i].modifies) return true;
    return false;
}

// Evaluates the read commands in [begin, end) into outputs; returns the worst status.
int evaluateRange(RpcCaller& rpc, const VsctlPlan& plan, std::size_t begin, std::size_t end,
                  std::vector<std::string>& outputs) {
    const auto& cmds = plan.invocation.commands;
    if (!anyRead(cmds, begin, end)) return kExitOk;
    Snapshot snap = takeSnapshot(rpc, cmds, begin, end);
    int status = kExitOk;
    for (std::size_t i = begin; i < end; ++i) {
        if (cmds[i].modifies) continue;
        ReadOutput r = evaluateRead(cmds[i], snap, plan.invocation.common.format);
        outputs[i] = std::move(r.text);
        if (r.status != kExitOk) status = r.status;
    }
    return status;
}

std::string transactFailure(const VsctlPlan& plan, const protocol::Response& response) {
    std::string msg = response.message;
    const auto& cmds = plan.invocation.commands;
    if (cmds.size() > 1 && response.data.IsObject()) {
        auto it = response.data.FindMember("op_index");
        if (it != response.data.MemberEnd() && it->value.IsUint() &&
            it->value.GetUint() < plan.transact.opCommand.size())
            msg += " (in command '" + cmds[plan.transact.opCommand[it->value.GetUint()]].text() + "')";
    }
    return msg;
}

void reportSetupError(const std::string& iface, const rapidjson::Value& error, std::ostream& err) {
    std::string message = error.IsString() ? error.GetString() : protocol::toJson(error);
    while (!message.empty() && message.back() == '.') message.pop_back();
    err << "vsctl: Error detected while setting up '" << iface << "': " << message << ".\n";
}

// The interfaces of a recheck record (an Interface, or a Port's interfaces) in `snap`.
std::vector<std::string> recheckInterfaces(const Snapshot& snap, const std::string& table, const std::string& name) {
    if (table == "Interface") return {name};
    rapidjson::Document port;
    std::vector<std::string> names;
    if (!snap.record("Port", name, port)) return names;
    auto it = port.FindMember("interfaces");
    if (it != port.MemberEnd() && it->value.IsArray())
        for (const auto& i : it->value.GetArray())
            if (i.IsString()) names.emplace_back(i.GetString());
    return names;
}

// Sends the transaction; prints setup errors of watched interfaces: those in the reply (which
// lists the interfaces the transaction changed), then, after one `get`, those the transaction
// touched without changing them (a repeated `set`) whose `error` column still holds a failure.
// Returns the exit status.
int transact(const VsctlPlan& plan, RpcCaller& rpc, std::ostream& err) {
    protocol::Response response = rpc.call("transact", plan.transact.params);
    if (!response.ok) throw CliError(transactFailure(plan, response));
    int status = kExitOk;
    std::set<std::string> reported;
    if (response.result.IsObject()) {
        auto errors = response.result.FindMember("errors");
        if (errors != response.result.MemberEnd() && errors->value.IsObject())
            for (const auto& e : errors->value.GetObject()) {
                std::string iface = e.name.GetString();
                if (!plan.transact.watchedInterfaces.count(iface)) continue;
                reportSetupError(iface, e.value, err);
                reported.insert(iface);
                status = kExitError;
            }
    }
    if (plan.transact.recheckRecords.empty()) return status;
    Snapshot snap;
    snap.setGet(callOrThrow(rpc, "get"));
    for (const auto& [table, name] : plan.transact.recheckRecords)
        for (const auto& iface : recheckInterfaces(snap, table, name)) {
            rapidjson::Document rec;
            if (reported.count(iface) || !snap.record("Interface", iface, rec)) continue;
            auto e = rec.FindMember("error");
            if (e == rec.MemberEnd() || e->value.IsNull() || (e->value.IsString() && e->value.GetStringLength() == 0) ||
                (e->value.IsArray() && e->value.Empty()))
                continue;
            reportSetupError(iface, e->value, err);
            reported.insert(iface);
            status = kExitError;
        }
    return status;
}

// ovs-vsctl's database commands and options go to vswitchd's OVSDB server (vsctl_db.h).
int runDbPath(const VsctlInvocation& inv, std::ostream& out, std::ostream& err) {
    std::optional<OvsdbClient::Clock::time_point> deadline;
    if (inv.common.timeoutSeconds > 0)
        deadline = OvsdbClient::Clock::now() + std::chrono::milliseconds(static_cast<long long>(inv.common.timeoutSeconds * 1000));
    OvsdbClient client(inv.db.target.empty() ? defaultDbSocket(inv.common.socket) : inv.db.target, deadline);
    DbCall call = [&client](const std::string& method, const rapidjson::Value& params) { return client.call(method, params); };
    return runDbInvocation(inv, call, out, err);
}

}  // namespace

VsctlPlan planVsctl(const std::vector<std::string>& args) {
    VsctlPlan plan;
    plan.invocation = parseVsctlArgs(args);
    if (!plan.invocation.useDb) plan.transact = planTransact(plan.invocation.commands);
    return plan;
}

int runVsctl(const VsctlPlan& plan, RpcCaller& rpc, std::ostream& out, std::ostream& err) {
    const auto& cmds = plan.invocation.commands;
    std::size_t firstModify = cmds.size();
    for (std::size_t i = 0; i < cmds.size(); ++i)
        if (cmds[i].modifies) {
            firstModify = i;
            break;
        }
    std::vector<std::string> outputs(cmds.size());
    int readStatus = evaluateRange(rpc, plan, 0, firstModify, outputs);
    int status = kExitOk;
    if (!plan.transact.empty()) status = transact(plan, rpc, err);
    if (firstModify < cmds.size()) {
        int after = evaluateRange(rpc, plan, firstModify, cmds.size(), outputs);
        if (after != kExitOk) readStatus = after;
    }
    for (const auto& o : outputs) out << o;
    out.flush();
    return status != kExitOk ? status : readStatus;
}

int vsctlMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
              const RpcFactory& connect) {
    try {
        VsctlPlan plan = planVsctl(args);
        if (plan.invocation.help) {
            out << vsctlUsage();
            return kExitOk;
        }
        if (plan.invocation.version) {
            out << "vsctl (vswitch) " << VSWITCH_VERSION << "\n";
            return kExitOk;
        }
        if (plan.invocation.useDb) return runDbPath(plan.invocation, out, err);
        std::unique_ptr<RpcCaller> rpc = connect(plan.invocation.common);
        return runVsctl(plan, *rpc, out, err);
    } catch (const CliError& e) {
        err << "vsctl: " << e.what() << "\n";
        return e.status();
    } catch (const protocol::ClientError& e) {
        err << "vsctl: " << e.what() << "\n";
        return kExitError;
    }
}

}  // namespace vs::utilities
