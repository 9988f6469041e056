// Prometheus metrics of the daemon (docs/metrics.md): the text exposition format (version 0.0.4)
// and the collection of every metric family from the Daemon's state.
//
//   metrics::Exposition e;
//   auto& f = e.family("ovs_interface_rx_packets_total", metrics::Type::kCounter, "Packets received.");
//   f.add({{"bridge", "br0"}, {"port", "p1"}, {"interface", "p1"}}, 770);
//   std::string text = e.text();
//
// Exposition groups samples by family whatever the order they are added in (a family's HELP and
// TYPE lines appear once, followed by all its samples), escapes label values and HELP text as the
// format requires, and leaves out families that got no sample.
//
// Thread-safety: Exposition is a plain value. collect() reads the daemon's state and must run on
// the control thread (as the management methods do).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace vs::vswitchd {
class Daemon;
}

namespace vs::vswitchd::metrics {

enum class Type { kCounter, kGauge };

using Labels = std::vector<std::pair<std::string, std::string>>;

class Family {
public:
    Family(std::string name, Type type, std::string help);
    // One sample. Label names must be valid Prometheus label names (std::invalid_argument);
    // values are any text (escaped on output).
    void add(const Labels& labels, double value);
    // Integers are written exactly (a 64-bit counter is not rounded to a double); bool as 1/0.
    template <class T>
        requires std::is_integral_v<T>
    void add(const Labels& labels, T value) {
        if constexpr (std::is_same_v<T, bool>) addText(labels, value ? "1" : "0");
        else addText(labels, std::to_string(value));
    }

    const std::string& name() const { return name_; }
    Type type() const { return type_; }
    const std::string& help() const { return help_; }
    bool empty() const { return samples_.empty(); }
    void appendTo(std::string& out) const;

private:
    void addText(const Labels& labels, std::string value);
    std::string name_;
    Type type_;
    std::string help_;
    std::vector<std::pair<std::string, std::string>> samples_;  // rendered label set, value
};

class Exposition {
public:
    // Declares family `name`, or returns it if already declared with the same type and help.
    // Throws std::invalid_argument for an invalid metric name or a redeclaration that differs.
    Family& family(std::string_view name, Type type, std::string_view help);
    // Every family with samples, in the order of first declaration.
    std::string text() const;

private:
    std::deque<Family> families_;
    std::map<std::string, std::size_t, std::less<>> index_;
};

// The escapes of the text format: label values escape backslash, double quote and newline; HELP
// text escapes backslash and newline.
std::string escapeLabelValue(std::string_view v);
std::string escapeHelp(std::string_view v);
// [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]* (label names starting "__" are reserved).
bool validMetricName(std::string_view n);
bool validLabelName(std::string_view n);
// A sample value as the format writes it: integers exactly, NaN, +Inf, -Inf.
std::string formatValue(double v);

// The content type of the text format.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Every metric of the daemon (docs/metrics.md lists the families), as exposition text.
std::string collect(Daemon& d);

}  // namespace vs::vswitchd::metrics
