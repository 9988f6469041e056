// Readiness and state for a service manager, through libsystemd's sd_notify(3) (the
// $NOTIFY_SOCKET protocol): READY=1 once the management socket serves requests (the unit is
// Type=notify, so `systemctl start` returns only then, and units ordered after vswitchd find it
// working), RELOADING=1 then READY=1 around a SIGHUP (log reopen, ExecReload), STOPPING=1 at a
// SIGTERM. Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
//
// Thread-safety: call from the control thread (sd_notify itself is thread-safe).
#pragma once

#include <string>

namespace vs::vswitchd::service {

// "READY=1\nSTATUS=<status>\nMAINPID=<pid>". Returns false if the manager could not be told.
bool notifyReady(const std::string& status);
bool notifyReloading();
bool notifyStopping();

}  // namespace vs::vswitchd::service
