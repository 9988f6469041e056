// Open vSwitch's Open_vSwitch database schema (vswitch.ovsschema, version 8.3.1 as Debian 12's
// openvswitch 3.1 ships it; Apache License 2.0), embedded at build time from ovsdb/vswitch.ovsschema.
//
// Thread-safety: returns a static string; safe from any thread.
#pragma once

#include <string_view>

namespace vs::ovsdb {

// The schema's JSON text, as Open vSwitch publishes it (RFC 7047 section 3.2).
std::string_view vswitchSchemaText();

}  // namespace vs::ovsdb
