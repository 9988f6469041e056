// vsctl's database path (utilities/vsctl_db.h, vsctl_datum.h, vsctl_table.h): ovs-vsctl's value
// syntax typed by the schema, the five output formats, commands on a replica, and the one
// transaction an invocation commits. The expected texts are what Debian's ovs-vsctl printed for
// the same rows (tests/system/test_vsctl_db.py checks the rest against it live).
#include <gtest/gtest.h>

#include "ovsdb/vswitch_schema.h"
#include "protocol/jsonrpc.h"
#include "utilities/vsctl.h"
#include "utilities/vsctl_datum.h"
#include "utilities/vsctl_db.h"
#include "utilities/vsctl_table.h"

namespace vs::utilities {
namespace {

using Args = std::vector<std::string>;

std::shared_ptr<const ovsdb::Schema> schema() {
    static auto s = std::make_shared<const ovsdb::Schema>(ovsdb::parseSchema(ovsdb::vswitchSchemaText()));
    return s;
}

const ovsdb::ColumnType& colType(const std::string& table, const std::string& column) {
    return schema()->table(table)->column(column)->type;
}

std::string parseError(std::string_view text, const ovsdb::ColumnType& t) {
    try {
        parseDatumText(text, t, nullptr);
    } catch (const CliError& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(VsctlDatum, ParsesOvsVsctlSyntaxTypedByTheColumn) {
    const auto& tag = colType("Port", "tag");
    const auto& trunks = colType("Port", "trunks");
    const auto& oc = colType("Port", "other_config");
    EXPECT_EQ(datumToString(parseDatumText("5", tag, nullptr), tag), "5");
    EXPECT_EQ(datumToString(parseDatumText("[]", tag, nullptr), tag), "[]");
    EXPECT_EQ(datumToString(parseDatumText("1,2", trunks, nullptr), trunks), "[1, 2]");
    EXPECT_EQ(datumToString(parseDatumText("[2, 1 3]", trunks, nullptr), trunks), "[1, 2, 3]");
    EXPECT_EQ(datumToString(parseDatumText("[1-3,7]", trunks, nullptr), trunks), "[1, 2, 3, 7]");
    EXPECT_EQ(parseError("5-3", trunks), "\"5-3\" is not a valid range. Range end cannot be before start.");
    EXPECT_EQ(atomToString(parseWholeAtom("a:b,c", oc.key, nullptr)), "\"a:b,c\"");  // a keyed value: all of it
    EXPECT_EQ(atomToString(parseWholeAtom("\"x y\"", oc.key, nullptr)), "\"x y\"");
    auto m = parseDatumText(R"({k="v w", a=b})", oc, nullptr);
    EXPECT_EQ(datumToString(m, oc), R"({a=b, k="v w"})");
    EXPECT_EQ(datumToBare(m, oc), "a=b k=v w");
    EXPECT_EQ(datumToString(parseDatumText("{}", oc, nullptr), oc), "{}");
    EXPECT_EQ(parseError("abc", tag), "\"abc\" is not a valid integer or range");
    EXPECT_EQ(parseError("5000", tag), "constraint violation: 5000 is not in the range 0 to 4095");
    EXPECT_EQ(parseError("{a}", oc), "\"{a}\": missing '=' after a map key");
    EXPECT_EQ(parseError("{a=1, a=2}", oc), "\"{a=1, a=2}\": duplicate key or value");
    EXPECT_EQ(parseError("5 6", tag), "\"5 6\": 2 values where the column holds at most 1");
    const auto& type = colType("Interface", "type");
    EXPECT_EQ(parseError("\"vxlan", type), "unterminated quoted string \"vxlan");
}

DbTable portTable() {
    DbTable t;
    t.headings = {"name", "tag", "trunks", "other_config"};
    auto row = [](const std::string& name, const std::string& tag, const std::string& trunks, const std::string& oc) {
        return std::vector<DbCell>{
            {parseDatumText(name, colType("Port", "name"), nullptr), &colType("Port", "name")},
            {parseDatumText(tag, colType("Port", "tag"), nullptr), &colType("Port", "tag")},
            {parseDatumText(trunks, colType("Port", "trunks"), nullptr), &colType("Port", "trunks")},
            {parseDatumText(oc, colType("Port", "other_config"), nullptr), &colType("Port", "other_config")}};
    };
    t.rows.push_back(row("p1", "5", "1,2", "a=b"));
    t.rows.push_back(row("br0", "[]", "[]", "{}"));
    return t;
}

TEST(VsctlTable, FormatsAsOvsVsctlPrints) {
    DbTable t = portTable();
    DbStyle s;
    EXPECT_EQ(formatDbTable(t, s),
              "name                : p1\ntag                 : 5\ntrunks              : [1, 2]\nother_config        : {a=b}\n\n"
              "name                : br0\ntag                 : []\ntrunks              : []\nother_config        : {}\n");
    s.format = DbStyle::Format::kTable;
    EXPECT_EQ(formatDbTable(t, s),
              "name tag trunks other_config\n---- --- ------ ------------\np1   5   [1, 2] {a=b}\nbr0  []  []     {}\n");
    s.format = DbStyle::Format::kCsv;
    EXPECT_EQ(formatDbTable(t, s), "name,tag,trunks,other_config\np1,5,\"[1, 2]\",{a=b}\nbr0,[],[],{}\n");
    s.data = DbStyle::Data::kBare;
    EXPECT_EQ(formatDbTable(t, s), "name,tag,trunks,other_config\np1,5,1 2,a=b\nbr0,,,\n");
    s.format = DbStyle::Format::kJson;  // JSON cells whatever --data says
    EXPECT_EQ(formatDbTable(t, s),
              R"({"data":[["p1",5,["set",[1,2]],["map",[["a","b"]]]],["br0",["set",[]],["set",[]],["map",[]]]],)"
              R"("headings":["name","tag","trunks","other_config"]})" "\n");
    s.format = DbStyle::Format::kTable;
    s.data = DbStyle::Data::kJson;
    s.headings = false;
    EXPECT_EQ(formatDbTable(t, s), "\"p1\"  5          [\"set\",[1,2]] [\"map\",[[\"a\",\"b\"]]]\n"
                                   "\"br0\" [\"set\",[]] [\"set\",[]]    [\"map\",[]]\n");
}

TEST(VsctlTable, PrettyJsonAndHtmlLinks) {
    rapidjson::Document d;
    d.Parse(R"({"data":[["p1",5]],"headings":["name","tag"]})");
    EXPECT_EQ(jsonText(d, true),
              "{\n  \"data\": [\n    [\n      \"p1\",\n      5]],\n  \"headings\": [\n    \"name\",\n    \"tag\"]}");
    DbTable t;
    t.headings = {"_uuid", "ports"};
    ovsdb::Datum self, ports;
    self.entries.emplace(ovsdb::Uuid{"afd38ab5-c053-4fed-9b1e-6a6f4590d104"}, std::monostate{});
    ports.entries.emplace(ovsdb::Uuid{"34c37930-a16d-46b2-89a4-e4cfb6948ca8"}, std::monostate{});
    t.rows.push_back({{self, &uuidColumnType()}, {ports, &colType("Bridge", "ports")}});
    DbStyle s;
    s.format = DbStyle::Format::kHtml;
    EXPECT_EQ(formatDbTable(t, s),
              "<table border=1>\n  <tr>\n    <th>_uuid</th>\n    <th>ports</th>\n  </tr>\n  <tr>\n"
              "    <td><a name=\"afd38ab5-c053-4fed-9b1e-6a6f4590d104\">afd38ab5</a></td>\n"
              "    <td>[<a href=\"#34c37930-a16d-46b2-89a4-e4cfb6948ca8\">34c37930</a>]</td>\n  </tr>\n</table>\n");
}

// A replica with the Open_vSwitch row, bridge br0 and its port and interface p1.
ovsdb::Database replica() {
    ovsdb::Database db(schema());
    auto ovs = ovsdb::randomUuid(), br = ovsdb::randomUuid(), port = ovsdb::randomUuid(), iface = ovsdb::randomUuid();
    auto ref = [](const ovsdb::Uuid& u) {
        ovsdb::Datum d;
        d.entries.emplace(u, std::monostate{});
        return d;
    };
    auto str = [](const std::string& s) {
        ovsdb::Datum d;
        d.entries.emplace(s, std::monostate{});
        return d;
    };
    ovsdb::Row r = db.defaultRow("Open_vSwitch");
    r["bridges"] = ref(br);
    db.tables["Open_vSwitch"][ovs] = r;
    r = db.defaultRow("Bridge");
    r["name"] = str("br0");
    r["ports"] = ref(port);
    db.tables["Bridge"][br] = r;
    r = db.defaultRow("Port");
    r["name"] = str("p1");
    r["interfaces"] = ref(iface);
    db.tables["Port"][port] = r;
    r = db.defaultRow("Interface");
    r["name"] = str("p1");
    db.tables["Interface"][iface] = r;
    return db;
}

std::vector<Command> commands(const Args& args) { return parseVsctlArgs(args).commands; }

std::string runError(ovsdb::Database& db, const Args& args) {
    try {
        runDbCommands(db, commands(args), DbStyle{});
    } catch (const CliError& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(VsctlDb, CommandsSeeEachOtherAndNameRows) {
    ovsdb::Database db = replica();
    DbRun run = runDbCommands(
        db,
        commands({"--", "--id=@p", "get", "Port", "p1", "--", "--id=@m", "create", "Mirror", "name=m0",
                  "select-all=true", "output-port=@p", "--", "add", "Bridge", "br0", "mirrors", "@m", "--",
                  "set", "Port", "p1", "tag=7", "other-config:k=\"v w\"", "--", "--columns=name,tag", "find", "Port",
                  "tag>=7", "--", "get", "Mirror", "m0", "output_port", "select_all", "--", "get", "Port", "p1",
                  "other_config:k"}),
        DbStyle{});
    ASSERT_EQ(run.created.size(), 1u);
    EXPECT_EQ(run.outputs[1], run.created[0].s + "\n");
    EXPECT_EQ(run.outputs[4], "name                : p1\ntag                 : 7\n");
    EXPECT_EQ(run.outputs[5], db.tables["Port"].begin()->first.s + "\ntrue\n");
    EXPECT_EQ(run.outputs[6], "\"v w\"\n");
    EXPECT_EQ(db.tables["Mirror"].size(), 1u);
}

TEST(VsctlDb, ErrorsNameTheProblem) {
    ovsdb::Database db = replica();
    EXPECT_EQ(runError(db, {"list", "nosuch"}), "unknown table \"nosuch\"");
    EXPECT_EQ(runError(db, {"get", "Port", "p9", "tag"}), "no row \"p9\" in table Port");
    EXPECT_EQ(runError(db, {"get", "Port", "p1", "nosuch"}), "Port does not contain a column whose name matches \"nosuch\"");
    EXPECT_EQ(runError(db, {"get", "Port", "p1", "other_config:zz"}),
              "no key \"zz\" in Port record \"p1\" column other_config");
    EXPECT_EQ(runError(db, {"set", "Port", "p1", "name=x"}), "cannot modify read-only column name in table Port");
    EXPECT_EQ(runError(db, {"add", "Bridge", "br0", "mirrors", "@m"}),
              "row id \"@m\" is referenced but never created (e.g. with \"-- --id=@m create ...\")");
    EXPECT_EQ(runError(db, {"clear", "Port", "p1", "interfaces"}),
              "\"clear\" operation cannot be applied to column interfaces of table Port, which is not allowed to be empty");
    EXPECT_EQ(runError(db, {"find", "Port", "tag~5"}).substr(0, 43), "\"tag~5\": argument does not end in \"=\", \"!=\"");
    EXPECT_EQ(runError(db, {"--all", "destroy", "Port", "p1"}), "--all and records argument should not be specified together");
    EXPECT_EQ(runError(db, {"add-br", "br1", "--", "--db=x", "list", "Port"}).substr(0, 40),
              "option '--db=x' must come before the fir");
}

TEST(VsctlDb, FindComparesAsOvsVsctl) {
    ovsdb::Database db = replica();
    runDbCommands(db, commands({"set", "Port", "p1", "trunks=1,2", "other_config:a=b"}), DbStyle{});
    auto found = [&](const std::string& cond) {
        return runDbCommands(db, commands({"--bare", "--columns=name", "find", "Port", cond}), DbStyle{}).outputs[0] != "";
    };
    EXPECT_TRUE(found("tag<6"));  // an empty set is smaller than any other
    EXPECT_FALSE(found("tag=5"));
    EXPECT_TRUE(found("trunks{=}[1,2]"));
    EXPECT_TRUE(found("trunks{>}1"));
    EXPECT_FALSE(found("trunks{<}[1,2]"));
    EXPECT_TRUE(found("trunks{<=}[1,2,3]"));
    EXPECT_TRUE(found("other_config:a=b"));
    EXPECT_FALSE(found("other_config:zz=b"));
    EXPECT_TRUE(found("other_config:zz{!=}b"));
}

TEST(VsctlDb, OneTransactionWithWaitsAndNamedRows) {
    const ovsdb::Database before = replica();
    ovsdb::Database after = before;
    runDbCommands(after,
                  commands({"--", "--id=@m", "create", "Mirror", "name=m0", "--", "add", "Bridge", "br0", "mirrors",
                            "@m", "--", "create", "Mirror", "name=orphan"}),
                  DbStyle{});
    CommitPlan plan = planCommit(before, after);
    const std::string ops = protocol::toJson(plan.ops);
    ASSERT_EQ(plan.ops.Size(), 3u) << ops;  // the orphan mirror was collected: nothing refers to it
    EXPECT_EQ(std::string(plan.ops[0]["op"].GetString()), "wait");
    EXPECT_EQ(std::string(plan.ops[1]["op"].GetString()), "update");
    EXPECT_EQ(std::string(plan.ops[2]["op"].GetString()), "insert");
    EXPECT_EQ(std::string(plan.ops[1]["row"]["mirrors"][0].GetString()), "named-uuid") << ops;
    EXPECT_EQ(std::string(plan.ops[1]["row"]["mirrors"][1].GetString()),
              std::string(plan.ops[2]["uuid-name"].GetString()));
    EXPECT_TRUE(planCommit(before, before).ops.Empty());
}

TEST(VsctlDb, BridgeAndPortCommandsAreRowChanges) {
    ovsdb::Database db = replica();
    DbRun run = runDbCommands(db,
                              commands({"--db=unix:/x", "add-br", "br1", "--", "add-port", "br1", "p2", "tag=9", "--",
                                        "list-br", "--", "list-ports", "br1", "--", "port-to-br", "p2", "--",
                                        "iface-to-br", "p2", "--", "br-exists", "br9"}),
                              DbStyle{});
    EXPECT_EQ(run.outputs[2], "br0\nbr1\n");
    EXPECT_EQ(run.outputs[3], "p2\n");  // the local port br1 is not listed
    EXPECT_EQ(run.outputs[4], "br1\n");
    EXPECT_EQ(run.outputs[5], "br1\n");
    EXPECT_EQ(run.status, kExitAbsent);
    EXPECT_EQ(db.tables["Bridge"].size(), 2u);
    EXPECT_EQ(db.tables["Interface"].size(), 3u);  // p1, br1 (internal), p2
    EXPECT_EQ(runError(db, {"add-port", "br1", "p1"}),
              "cannot create a port named p1 because a port named p1 already exists on bridge br0");
    EXPECT_EQ(runError(db, {"add-br", "br0"}), "cannot create a bridge named br0 because a bridge named br0 already exists");
    EXPECT_EQ(runError(db, {"del-port", "br1", "p1"}), "bridge br1 does not have a port p1");
    EXPECT_EQ(runError(db, {"add-port", "br9", "p9"}), "no bridge named br9");
    EXPECT_EQ(runError(db, {"--db=unix:/x", "add-bond", "br1", "b", "x", "y"}).substr(0, 41),
              "'add-bond' cannot be combined with databa");
    // del-br removes the bridge's ports and interfaces at once: the name is free again.
    runDbCommands(db, commands({"--db=unix:/x", "del-br", "br1", "--", "add-br", "br1", "--", "set-manager", "ptcp:6640"}),
                  DbStyle{});
    EXPECT_EQ(db.tables["Interface"].size(), 2u);
    EXPECT_EQ(runDbCommands(db, commands({"get-manager"}), DbStyle{}).outputs[0], "ptcp:6640\n");
    runDbCommands(db, commands({"emer-reset"}), DbStyle{});
    EXPECT_EQ(db.tables["Manager"].size(), 0u);  // collected: nothing refers to it any more
}

TEST(VsctlDb, RoutesOnlyWhatNeedsTheDatabase) {
    EXPECT_FALSE(planVsctl({"add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=internal"}).invocation.useDb);
    EXPECT_FALSE(planVsctl({"--format=json", "list", "Bridge"}).invocation.useDb);
    EXPECT_TRUE(planVsctl({"--format=table", "list", "Bridge"}).invocation.useDb);
    EXPECT_TRUE(planVsctl({"--bare", "--columns=name", "find", "Interface", "external_ids:a=b"}).invocation.useDb);
    EXPECT_TRUE(planVsctl({"get", "Open_vSwitch", ".", "ovs_version"}).invocation.useDb);
    EXPECT_TRUE(planVsctl({"--if-exists", "clear", "Port", "p1", "tag"}).invocation.useDb);
    EXPECT_TRUE(planVsctl({"--db=unix:/tmp/x", "list", "Port"}).invocation.useDb);
    EXPECT_FALSE(planVsctl({"--bare", "list", "Port"}).invocation.db.style.headings);
}

}  // namespace
}  // namespace vs::utilities
