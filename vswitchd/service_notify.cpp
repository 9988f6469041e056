#include "vswitchd/service_notify.h"

#include <systemd/sd-daemon.h>
#include <unistd.h>

namespace vs::vswitchd::service {

bool notifyReady(const std::string& status) {
    std::string msg = "READY=1\nSTATUS=" + status + "\nMAINPID=" + std::to_string(::getpid());
    return sd_notify(0, msg.c_str()) >= 0;
}

bool notifyReloading() { return sd_notify(0, "RELOADING=1\nSTATUS=reopening the log file") >= 0; }

bool notifyStopping() { return sd_notify(0, "STOPPING=1\nSTATUS=shutting down") >= 0; }

}  // namespace vs::vswitchd::service
