// The OVSDB engine (ovsdb/): RFC 7047 transact, garbage collection, errors, monitors, framing,
// and the config <-> Open_vSwitch rows mapping (vswitchd/ovsdb_mapping.h).
#include <gtest/gtest.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ovsdb/database.h"
#include "ovsdb/framing.h"
#include "ovsdb/monitor.h"
#include "ovsdb/vswitch_schema.h"
#include "vswitchd/config_json.h"
#include "vswitchd/ovsdb_mapping.h"
#include "vswitchd/ovsdb_server.h"

namespace vs::ovsdb {
namespace {

std::shared_ptr<const Schema> schema() {
    static auto s = std::make_shared<const Schema>(parseSchema(vswitchSchemaText()));
    return s;
}

std::string text(const rapidjson::Value& v) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    v.Accept(w);
    return sb.GetString();
}

// Runs `ops` (a JSON array without the database name) on `db`; keeps the result on success.
TxnOutcome run(Database& db, const std::string& ops) {
    rapidjson::Document d;
    d.Parse(ops.c_str());
    EXPECT_FALSE(d.HasParseError()) << ops;
    Database next(db.schema);
    TxnOutcome out = transact(db, d, 0, TxnContext{}, &next);
    if (out.ok) db = std::move(next);
    return out;
}

// A database with the Open_vSwitch row and bridge br0 (port br0, interface br0).
Database withBridge(std::string* ovsUuid = nullptr) {
    Database db(schema());
    auto out = run(db, R"([{"op":"insert","table":"Open_vSwitch","row":{}}])");
    EXPECT_TRUE(out.ok) << text(out.result);
    std::string u = out.result[0]["uuid"][1].GetString();
    if (ovsUuid) *ovsUuid = u;
    out = run(db, R"([{"op":"insert","table":"Interface","uuid-name":"i","row":{"name":"br0","type":"internal"}},
        {"op":"insert","table":"Port","uuid-name":"p","row":{"name":"br0","interfaces":["named-uuid","i"]}},
        {"op":"insert","table":"Bridge","uuid-name":"b","row":{"name":"br0","ports":["named-uuid","p"]}},
        {"op":"mutate","table":"Open_vSwitch","where":[],"mutations":[["bridges","insert",["named-uuid","b"]]]}])");
    EXPECT_TRUE(out.ok) << text(out.result);
    return db;
}

TEST(OvsdbSchema, ParsesOpenVswitchSchema) {
    auto s = schema();
    EXPECT_EQ(s->name, "Open_vSwitch");
    EXPECT_TRUE(s->table("Open_vSwitch")->isRoot);
    EXPECT_FALSE(s->table("Port")->isRoot);
    const Column* tag = s->table("Port")->column("tag");
    ASSERT_NE(tag, nullptr);
    EXPECT_EQ(tag->type.min, 0u);
    EXPECT_EQ(tag->type.key.maxInteger, 4095);
    EXPECT_EQ(s->table("Bridge")->column("ports")->type.key.refTable, "Port");
}

TEST(OvsdbTransact, InsertWithForwardNamedUuidsAndSelect) {
    Database db = withBridge();
    EXPECT_EQ(db.tables.at("Bridge").size(), 1u);
    EXPECT_EQ(db.tables.at("Port").size(), 1u);
    auto out = run(db, R"([{"op":"select","table":"Bridge","where":[["name","==","br0"]],"columns":["name","ports"]}])");
    ASSERT_TRUE(out.ok);
    EXPECT_EQ(std::string(out.result[0]["rows"][0]["name"].GetString()), "br0");
    EXPECT_TRUE(out.result[0]["rows"][0]["ports"].IsArray());
}

TEST(OvsdbTransact, UnreferencedRowsAreCollected) {
    Database db = withBridge();
    auto out = run(db, R"([{"op":"insert","table":"Port","row":{"name":"orphan"}}])");
    ASSERT_TRUE(out.ok) << text(out.result);
    EXPECT_EQ(db.tables.at("Port").size(), 1u);  // the orphan was collected at commit
    out = run(db, R"([{"op":"update","table":"Open_vSwitch","where":[],"row":{"bridges":["set",[]]}}])");
    ASSERT_TRUE(out.ok);
    EXPECT_TRUE(db.tables.at("Bridge").empty());
    EXPECT_TRUE(db.tables.at("Port").empty());
    EXPECT_TRUE(db.tables.at("Interface").empty());
}

void expectError(const std::string& ops, const std::string& error) {
    Database db = withBridge();
    Database before = db;
    auto out = run(db, ops);
    EXPECT_FALSE(out.ok) << ops;
    bool found = false;
    for (const auto& r : out.result.GetArray())
        if (r.IsObject() && r.HasMember("error")) {
            EXPECT_EQ(std::string(r["error"].GetString()), error) << text(out.result);
            EXPECT_TRUE(r.HasMember("details"));
            found = true;
        }
    EXPECT_TRUE(found) << text(out.result);
    EXPECT_TRUE(db == before) << "a failed transaction changed the database";
}

TEST(OvsdbTransact, ErrorsChangeNothing) {
    expectError(R"([{"op":"insert","table":"Nope","row":{}}])", "unknown table");
    expectError(R"([{"op":"update","table":"Port","where":[],"row":{"colour":"red"}}])", "unknown column");
    expectError(R"([{"op":"update","table":"Port","where":[],"row":{"tag":"five"}}])", "syntax error");
    expectError(R"([{"op":"update","table":"Port","where":[],"row":{"tag":5000}}])", "constraint violation");
    expectError(R"([{"op":"update","table":"Port","where":[],"row":{"vlan_mode":"sideways"}}])", "constraint violation");
    expectError(R"([{"op":"update","table":"Bridge","where":[],"row":{"ports":["uuid","6d2a0000-0000-4000-8000-000000000001"]}}])",
                "referential integrity violation");
    expectError(R"([{"op":"insert","table":"Bridge","row":{"name":"br0"}},
                    {"op":"mutate","table":"Open_vSwitch","where":[],"mutations":[["bridges","insert",["named-uuid","x"]]]}])",
                "syntax error");
    expectError(R"([{"op":"update","table":"Port","where":[],"row":{"tag":1}},{"op":"abort"}])", "aborted");
    expectError(R"([{"op":"wait","table":"Bridge","timeout":0,"where":[],"columns":["name"],"until":"==","rows":[{"name":"brX"}]}])",
                "timed out");
    expectError(R"([{"op":"assert","lock":"l"}])", "not owner");
    expectError(R"([{"op":"frobnicate"}])", "syntax error");
}

TEST(OvsdbTransact, DuplicateNameInIndexIsRefused) {
    expectError(R"([{"op":"insert","table":"Interface","uuid-name":"i","row":{"name":"x"}},
        {"op":"insert","table":"Port","uuid-name":"p","row":{"name":"br0","interfaces":["named-uuid","i"]}},
        {"op":"mutate","table":"Bridge","where":[],"mutations":[["ports","insert",["named-uuid","p"]]]}])",
                "constraint violation");
}

TEST(OvsdbTransact, MutateAndWait) {
    Database db = withBridge();
    auto out = run(db, R"([{"op":"mutate","table":"Open_vSwitch","where":[],"mutations":[["next_cfg","+=",1]]},
        {"op":"select","table":"Open_vSwitch","where":[],"columns":["next_cfg"]},
        {"op":"mutate","table":"Bridge","where":[],"mutations":[["external_ids","insert",["map",[["k","v"]]]]]},
        {"op":"wait","table":"Bridge","timeout":0,"where":[],"columns":["name"],"until":"==","rows":[{"name":"br0"}]},
        {"op":"comment","comment":"x"}])");
    ASSERT_TRUE(out.ok) << text(out.result);
    EXPECT_EQ(out.result[1]["rows"][0]["next_cfg"].GetInt(), 1);
    EXPECT_EQ(out.result[2]["count"].GetInt(), 1);
    out = run(db, R"([{"op":"mutate","table":"Bridge","where":[],"mutations":[["external_ids","delete",["set",["k"]]]]}])");
    ASSERT_TRUE(out.ok);
    EXPECT_TRUE(db.tables.at("Bridge").begin()->second.at("external_ids").entries.empty());
}

TEST(OvsdbMonitor, Update2ReportsInsertModifyDelete) {
    Database db = withBridge();
    rapidjson::Document req;
    req.Parse(R"({"Port":{"columns":["name","tag"]},"Bridge":[{"columns":["ports"]}]})");
    Monitor m = parseMonitorRequests(*schema(), req, 2);
    rapidjson::Document d;
    auto init = initialUpdate(m, db, d.GetAllocator());
    EXPECT_EQ(init["Port"].MemberCount(), 1u);
    Database before = db;
    ASSERT_TRUE(run(db, R"([{"op":"update","table":"Port","where":[],"row":{"tag":7}}])").ok);
    auto upd = changeUpdate(m, before, db, d.GetAllocator());
    ASSERT_TRUE(upd.HasMember("Port"));
    EXPECT_EQ(upd["Port"].MemberBegin()->value["modify"]["tag"].GetInt(), 7);
    EXPECT_FALSE(upd.HasMember("Bridge"));  // its monitored columns did not change
    Monitor v1 = parseMonitorRequests(*schema(), req, 1);
    auto old1 = changeUpdate(v1, before, db, d.GetAllocator());
    EXPECT_TRUE(old1["Port"].MemberBegin()->value.HasMember("old"));
    EXPECT_EQ(old1["Port"].MemberBegin()->value["new"]["tag"].GetInt(), 7);
    rapidjson::Document bad;
    bad.Parse(R"({"Port":{"columns":["nope"]}})");
    EXPECT_THROW(parseMonitorRequests(*schema(), bad, 2), Error);
}

TEST(OvsdbRows, SaveAndLoadRoundTrip) {
    Database db = withBridge();
    ASSERT_TRUE(run(db, R"([{"op":"update","table":"Bridge","where":[],"row":{"datapath_type":"netdev"}}])").ok);
    std::string saved = rowsToText(db);
    rapidjson::Document d;
    d.Parse(saved.c_str());
    Database back(schema());
    rowsFromJson(d, back);
    EXPECT_TRUE(back == db);
    d.Parse(R"({"Bridge":{"00000000-0000-4000-8000-000000000001":{"colour":"red"}}})");
    EXPECT_THROW(rowsFromJson(d, back), Error);
}

TEST(OvsdbFraming, SplitsBackToBackMessages) {
    StreamFramer f;
    f.feed(R"({"a":"}{\"x"} [1,[2]]{"b")");
    EXPECT_EQ(*f.next(), R"({"a":"}{\"x"})");
    EXPECT_EQ(*f.next(), "[1,[2]]");
    EXPECT_FALSE(f.next());
    f.feed(":1}");
    EXPECT_EQ(*f.next(), R"({"b":1})");
    f.feed("garbage");
    EXPECT_FALSE(f.next());
    EXPECT_FALSE(f.error().empty());
}

}  // namespace
}  // namespace vs::ovsdb

namespace vs::vswitchd {
namespace {

TEST(OvsdbMapping, ConfigRoundTripsAndKeepsUuids) {
    ovsdb::Database db(std::make_shared<const ovsdb::Schema>(ovsdb::parseSchema(ovsdb::vswitchSchemaText())));
    Config cfg;
    cfg.bridges["br0"].ports["br0"].interfaces["br0"] = InterfaceConfig{"internal", {}, {}, {}, 65534};
    PortConfig& p = cfg.bridges["br0"].ports["p1"];
    p.tag = 42;
    p.interfaces["p1"].ofport = 1;
    p.interfaces["p1"].external_ids["iface-id"] = "vm1";
    projectConfig(cfg, OvsdbStatus{}, db);
    ASSERT_EQ(db.tables.at("Port").size(), 2u);
    auto uuids = db.tables.at("Port");
    Config back = configFromDb(db, cfg);
    EXPECT_EQ(back, cfg);
    cfg.bridges["br0"].ports["p1"].tag = 43;
    projectConfig(cfg, OvsdbStatus{}, db);
    for (const auto& [u, row] : uuids) EXPECT_TRUE(db.tables.at("Port").count(u)) << "port row lost its UUID";
    EXPECT_EQ(configFromDb(db, cfg), cfg);
}

TEST(OvsdbMapping, SavedRowsTravelInTheConfigFile) {
    Config cfg;
    cfg.bridges["br0"].ports["br0"].interfaces["br0"] = InterfaceConfig{"internal", {}, {}, {}, 65534};
    cfg.ovsdb = R"({"Bridge":{"6d2a0000-0000-4000-8000-000000000001":{"datapath_type":"netdev"}}})";
    Config back = configFromFileText(configToFileText(cfg));
    EXPECT_EQ(back, cfg);
    EXPECT_THROW(configFromFileText(R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{},"ovsdb":[]})"),
                 ConfigFormatError);
}

TEST(OvsdbMapping, RowsTheConfigCannotHoldAreRefused) {
    ovsdb::Database db(std::make_shared<const ovsdb::Schema>(ovsdb::parseSchema(ovsdb::vswitchSchemaText())));
    Config cfg;
    cfg.bridges["br0"].ports["br0"].interfaces["br0"] = InterfaceConfig{"internal", {}, {}, {}, 65534};
    projectConfig(cfg, OvsdbStatus{}, db);
    // The local interface made a system interface: the config's validation refuses it.
    for (auto& [u, row] : db.tables.at("Interface")) row["type"] = ovsdb::Datum{{{ovsdb::Atom{std::string("tap")}, {}}}};
    EXPECT_THROW(configFromDb(db, cfg), ovsdb::Error);
}

}  // namespace
}  // namespace vs::vswitchd

TEST(OvsdbRemote, ParsesOvsdbServerSyntax) {
    using vs::vswitchd::parseOvsdbRemote;
    auto u = parseOvsdbRemote("punix:/run/x/db.sock");
    EXPECT_FALSE(u.tcp);
    EXPECT_EQ(u.path, "/run/x/db.sock");
    auto t = parseOvsdbRemote("ptcp:");
    EXPECT_TRUE(t.tcp);
    EXPECT_EQ(t.port, 6640);
    EXPECT_EQ(t.ip, "");
    t = parseOvsdbRemote("ptcp:6641:127.0.0.1");
    EXPECT_EQ(t.port, 6641);
    EXPECT_EQ(t.ip, "127.0.0.1");
    EXPECT_EQ(parseOvsdbRemote("ptcp:6642:[::1]").ip, "::1");
    for (const char* bad : {"pssl:6640", "tcp:127.0.0.1", "ptcp:70000", "ptcp:6640:host.name", "punix:", "unix:/x"}) {
        try {
            parseOvsdbRemote(bad);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
        }
    }
}
