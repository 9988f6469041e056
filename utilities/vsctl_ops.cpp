#include "utilities/vsctl_ops.h"

#include <filesystem>

#include "utilities/vsctl_value.h"

namespace vs::utilities {
namespace {

using Alloc = rapidjson::Document::AllocatorType;

class OpBuilder {
public:
    OpBuilder(TransactPlan& plan, std::size_t command, std::set<std::string>& created)
        : plan_(plan), command_(command), alloc_(plan.params.GetAllocator()), created_(created) {}

    rapidjson::Value str(std::string_view s) {
        return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc_);
    }
    rapidjson::Value op(std::string_view name) {
        rapidjson::Value v(rapidjson::kObjectType);
        v.AddMember("op", str(name), alloc_);
        return v;
    }
    void member(rapidjson::Value& op, const char* name, std::string_view value) {
        op.AddMember(rapidjson::StringRef(name), str(value), alloc_);
    }
    void flag(rapidjson::Value& op, const char* name, bool value) {
        op.AddMember(rapidjson::StringRef(name), rapidjson::Value(value), alloc_);
    }
    void member(rapidjson::Value& op, const char* name, rapidjson::Value& value) {
        op.AddMember(rapidjson::StringRef(name), value, alloc_);
    }
    void push(rapidjson::Value& op) {
        plan_.params["ops"].PushBack(op, alloc_);
        plan_.opCommand.push_back(command_);
    }
    void watch(std::string_view iface) { plan_.watchedInterfaces.emplace(iface); }
    // An Interface or Port record whose interfaces' errors must be read after the transaction.
    void recheck(std::string_view table, std::string_view record) {
        plan_.recheckRecords.emplace(std::string(table), std::string(record));
    }
    // A bridge, port or interface this invocation creates (the reply reports its errors).
    void created(std::string_view name) { created_.emplace(name); }
    Alloc& alloc() { return alloc_; }

private:
    TransactPlan& plan_;
    std::size_t command_;
    Alloc& alloc_;
    std::set<std::string>& created_;
};

void checkWritable(std::string_view table, std::string_view column) {
    if (columnKind(table, column) == ColumnKind::kReadOnly)
        throw CliError("cannot modify read-only column " + std::string(column) + " in table " + std::string(table));
}

// One `set` op for "COLUMN[:KEY]=VALUE" on TABLE RECORD.
void addSetOp(OpBuilder& b, std::string_view command, const std::string& table, const std::string& record,
              const std::string& arg) {
    ColumnArg col = parseColumnArg(arg);
    if (!col.value)
        throw CliError("'" + std::string(command) + "' argument '" + arg + "' is not COLUMN[:KEY]=VALUE");
    checkWritable(table, col.column);
    const ColumnKind kind = columnKind(table, col.column);
    if (col.key && kind == ColumnKind::kString)
        throw CliError("cannot specify key to set for non-map column " + col.column);
    rapidjson::Value value;
    valueToJson(kind, col.key.has_value(), *col.value, value, b.alloc());
    rapidjson::Value op = b.op("set");
    b.member(op, "table", table);
    b.member(op, "record", record);
    b.member(op, "column", col.column);
    if (col.key) b.member(op, "key", *col.key);
    b.member(op, "value", value);
    b.push(op);
    if (table == "Interface" || table == "Port") {
        b.watch(record);
        b.recheck(table, record);
    }
}

void addBr(OpBuilder& b, const Command& c) {
    rapidjson::Value op = b.op("add-br");
    b.member(op, "bridge", c.args[0]);
    b.flag(op, "may_exist", c.options.mayExist);
    b.push(op);
    b.watch(c.args[0]);
    if (c.options.mayExist) b.recheck("Interface", c.args[0]);
    else b.created(c.args[0]);
}

void delBr(OpBuilder& b, const Command& c) {
    rapidjson::Value op = b.op("del-br");
    b.member(op, "bridge", c.args[0]);
    b.flag(op, "if_exists", c.options.ifExists);
    b.push(op);
}

// add-port BR PORT [SETTING]... and add-bond BR PORT IFACE IFACE... [SETTING]...
void addPortOrBond(OpBuilder& b, const Command& c, bool bond) {
    std::size_t i = 2;
    rapidjson::Value ifaces(rapidjson::kArrayType);
    std::vector<std::string> names{c.args[1]};  // the port and its interfaces
    if (bond) {
        for (; i < c.args.size() && c.args[i].find('=') == std::string::npos; ++i) {
            ifaces.PushBack(b.str(c.args[i]), b.alloc());
            b.watch(c.args[i]);
            names.push_back(c.args[i]);
        }
        if (ifaces.Size() < 2)
            throw CliError("'add-bond' requires at least 2 interfaces, but only " + std::to_string(ifaces.Size()) +
                           (ifaces.Size() == 1 ? " was" : " were") + " specified");
    } else {
        b.watch(c.args[1]);
    }
    rapidjson::Value op = b.op("add-port");
    b.member(op, "bridge", c.args[0]);
    b.member(op, "port", c.args[1]);
    if (bond) b.member(op, "interfaces", ifaces);
    b.flag(op, "may_exist", c.options.mayExist);
    b.push(op);
    if (c.options.mayExist) {
        b.recheck("Port", c.args[1]);
    } else {
        for (const auto& n : names) b.created(n);
    }
    for (; i < c.args.size(); ++i) addSetOp(b, c.name, "Port", c.args[1], c.args[i]);
}

void delPort(OpBuilder& b, const Command& c) {
    rapidjson::Value op = b.op("del-port");
    if (c.args.size() == 2) b.member(op, "bridge", c.args[0]);
    b.member(op, "port", c.args.back());
    b.flag(op, "if_exists", c.options.ifExists);
    b.push(op);
}

// add-bond-iface BOND IFACE
void addBondIface(OpBuilder& b, const Command& c) {
    rapidjson::Value op = b.op("add-bond-iface");
    b.member(op, "bond", c.args[0]);
    b.member(op, "interface", c.args[1]);
    b.flag(op, "may_exist", c.options.mayExist);
    b.push(op);
    b.watch(c.args[1]);
    if (c.options.mayExist) b.recheck("Interface", c.args[1]);
    else b.created(c.args[1]);
}

// del-bond-iface [BOND] IFACE
void delBondIface(OpBuilder& b, const Command& c) {
    rapidjson::Value op = b.op("del-bond-iface");
    if (c.args.size() == 2) b.member(op, "bond", c.args[0]);
    b.member(op, "interface", c.args.back());
    b.flag(op, "if_exists", c.options.ifExists);
    b.push(op);
}

// set-controller BR TARGET... / del-controller BR / set-fail-mode BR MODE / del-fail-mode BR
void controllerCmd(OpBuilder& b, const Command& c) {
    rapidjson::Value op = b.op(c.name);
    b.member(op, "bridge", c.args[0]);
    if (c.name == "set-controller") {
        rapidjson::Value targets(rapidjson::kArrayType);
        for (std::size_t i = 1; i < c.args.size(); ++i) targets.PushBack(b.str(c.args[i]), b.alloc());
        b.member(op, "targets", targets);
    } else if (c.name == "set-fail-mode") {
        b.member(op, "mode", c.args[1]);
    }
    b.push(op);
}

// set-ssl PRIVKEY CERT CACERT (paths made absolute: the daemon does not share our directory) / del-ssl
void sslCmd(OpBuilder& b, const Command& c) {
    rapidjson::Value op = b.op(c.name);
    if (c.name == "set-ssl") {
        const char* fields[] = {"private_key", "certificate", "ca_cert"};
        for (int i = 0; i < 3; ++i) {
            std::error_code ec;
            auto abs = std::filesystem::absolute(c.args[i], ec);
            b.member(op, fields[i], ec ? c.args[i] : abs.lexically_normal().string());
        }
    }
    b.push(op);
}

// add-mirror BR NAME [COLUMN=VALUE...] / del-mirror BR NAME (docs/mirrors.md): values go as
// strings ("true", "p1,p2", "10,20"); the daemon parses and checks them.
void mirrorCmd(OpBuilder& b, const Command& c) {
    rapidjson::Value op = b.op(c.name);
    b.member(op, "bridge", c.args[0]);
    b.member(op, "mirror", c.args[1]);
    if (c.name == "add-mirror") {
        rapidjson::Value cols(rapidjson::kObjectType);
        for (std::size_t i = 2; i < c.args.size(); ++i) {
            ColumnArg col = parseColumnArg(c.args[i]);
            if (col.key || !col.value) throw CliError("add-mirror takes COLUMN=VALUE arguments, not '" + c.args[i] + "'");
            cols.AddMember(b.str(col.column), b.str(parseAtom(*col.value)), b.alloc());
        }
        b.member(op, "columns", cols);
        b.flag(op, "may_exist", c.options.mayExist);
    } else {
        b.flag(op, "if_exists", c.options.ifExists);
    }
    b.push(op);
}

void setCmd(OpBuilder& b, const Command& c) {
    const std::string table = canonicalTable(c.args[0]);
    for (std::size_t i = 2; i < c.args.size(); ++i) addSetOp(b, c.name, table, c.args[1], c.args[i]);
}

void clearCmd(OpBuilder& b, const Command& c) {
    const std::string table = canonicalTable(c.args[0]);
    for (std::size_t i = 2; i < c.args.size(); ++i) {
        ColumnArg col = parseColumnArg(c.args[i]);
        if (col.key || col.value)
            throw CliError("'clear' takes column names, but '" + c.args[i] + "' is not one");
        checkWritable(table, col.column);
        rapidjson::Value op = b.op("clear");
        b.member(op, "table", table);
        b.member(op, "record", c.args[1]);
        b.member(op, "column", col.column);
        b.push(op);
    }
    if (table == "Interface" || table == "Port") {
        b.watch(c.args[1]);
        b.recheck(table, c.args[1]);
    }
}

void removeCmd(OpBuilder& b, const Command& c) {
    const std::string table = canonicalTable(c.args[0]);
    ColumnArg col = parseColumnArg(c.args[2]);
    if (col.key || col.value) throw CliError("'remove' takes a column name, but '" + c.args[2] + "' is not one");
    checkWritable(table, col.column);
    if (columnKind(table, col.column) == ColumnKind::kString)
        throw CliError("cannot remove keys from non-map column " + col.column);
    for (std::size_t i = 3; i < c.args.size(); ++i) {
        const std::string& arg = c.args[i];
        if (!arg.starts_with("\"") && (arg.find('=') != std::string::npos || arg.starts_with("{")))
            throw CliError("'remove' takes map keys only; KEY=VALUE and {...} ('" + arg + "') are not supported");
        rapidjson::Value op = b.op("remove");
        b.member(op, "table", table);
        b.member(op, "record", c.args[1]);
        b.member(op, "column", col.column);
        b.member(op, "key", parseAtom(arg));
        b.push(op);
    }
    if (table == "Interface" || table == "Port") {
        b.watch(c.args[1]);
        b.recheck(table, c.args[1]);
    }
}

void buildOps(OpBuilder& b, const Command& c) {
    if (c.name == "add-br") return addBr(b, c);
    if (c.name == "del-br") return delBr(b, c);
    if (c.name == "add-port") return addPortOrBond(b, c, false);
    if (c.name == "add-bond") return addPortOrBond(b, c, true);
    if (c.name == "del-port") return delPort(b, c);
    if (c.name == "add-bond-iface") return addBondIface(b, c);
    if (c.name == "del-bond-iface") return delBondIface(b, c);
    if (c.name == "set-controller" || c.name == "del-controller" || c.name == "set-fail-mode" ||
        c.name == "del-fail-mode")
        return controllerCmd(b, c);
    if (c.name == "set-ssl" || c.name == "del-ssl") return sslCmd(b, c);
    if (c.name == "add-mirror" || c.name == "del-mirror") return mirrorCmd(b, c);
    if (c.name == "set") return setCmd(b, c);
    if (c.name == "clear") return clearCmd(b, c);
    if (c.name == "remove") return removeCmd(b, c);
    throw CliError("internal error: no ops for command '" + c.name + "'");
}

}  // namespace

TransactPlan planTransact(const std::vector<Command>& commands) {
    TransactPlan plan;
    plan.params.SetObject();
    plan.params.AddMember("ops", rapidjson::Value(rapidjson::kArrayType), plan.params.GetAllocator());
    std::set<std::string> created;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        if (!commands[i].modifies) continue;
        OpBuilder builder(plan, i, created);
        buildOps(builder, commands[i]);
    }
    // What this invocation creates is new to the daemon: the reply's `errors` covers it, and
    // `add-port br0 p1 tag=10` need not cost another round trip.
    std::erase_if(plan.recheckRecords, [&created](const auto& r) { return created.count(r.second) > 0; });
    if (plan.opCommand.empty()) plan.params.SetNull();
    return plan;
}

}  // namespace vs::utilities
