// The switch's answers to OpenFlow 1.3 meter requests (OpenFlow 1.3.5 sections 7.3.4.4 meter_mod,
// 7.3.5.12-14 multipart meter, meter_config, meter_features), for Of13Handler: wire structs in,
// ofproto's meter table (ofproto/meter.h) acted on, refusals as of13conv::Refusal carrying the
// spec's METER_MOD_FAILED code.
//
// Thread-safety: none; the control thread calls it. Ofproto is thread-safe.
#pragma once

#include <string>

#include "ofproto/ofproto.h"
#include "protocol/of13.h"

namespace vs::vswitchd::of13meter {

// Applies a meter_mod; throws of13conv::Refusal (METER_MOD_FAILED and its code).
void meterMod(ofproto::Ofproto& of, const std::string& bridge, const protocol::of13::MeterMod& mm);
// Fills `rep` for a meter, meter_config or meter_features request; false for other types.
bool multipart(const ofproto::Ofproto& of, const std::string& bridge, const protocol::of13::MultipartRequest& req,
               protocol::of13::MultipartReply& rep);
// A flow_mod's meter instruction must name an existing meter (METER_MOD_FAILED/UNKNOWN_METER,
// as Open vSwitch answers).
void checkFlowMeters(const ofproto::Ofproto& of, const std::string& bridge, const ofproto::ActionList& actions);
// The wire form of a meter config and back (used by the codec tests and vs-controller).
ofproto::MeterConfig toConfig(const protocol::of13::MeterMod& mm);
protocol::of13::MeterConfig fromConfig(const ofproto::MeterConfig& c);

}  // namespace vs::vswitchd::of13meter
