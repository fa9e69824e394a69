#pragma once

#include "result.h"

#include "fleettypes.h"

#include <QString>

#include <array>
#include <optional>
#include <vector>

namespace fleet::sim {

// A region as a scenario describes it at the start of the run.
struct ScenarioRegion
{
    QString id;
    QString name;
    QString provider;
    QString location;
    double weight = 1; // share of incoming builds
    std::array<int, kArchCount> workers {}; // initial workers per arch
    int maxWorkers = 0;
    int maxProvisionPerRequest = 200;
    double rttMs = 30;
    double packetLoss = 0;
};

// One change of conditions on the timeline: at `at`, ramp the named region's conditions to the new values.
struct ScenarioEvent
{
    qint64 at = 0; // msecs since epoch
    QString region;
    std::optional<double> packetLoss;
    std::optional<double> rttMs;
    std::optional<double> demand; // multiplier of the region's incoming builds
    int rampSeconds = 0;
    QString note;
};

// A simulated fleet and the timeline of its network conditions, read from resources/scenarios/*.json.
struct Scenario
{
    QString name;
    QString title;
    QString description;
    qint64 start = 0;
    int warmupSeconds = 0; // simulated before the server starts answering, so history exists
    double utilization = 0.6; // share of workers busy at normal load
    double meanBuildSeconds = 240;
    std::array<double, kArchCount> archMix { 0.7, 0.2, 0.1 };
    std::vector<ScenarioRegion> regions;
    std::vector<ScenarioEvent> timeline;

    int totalWorkers() const;
    // Moves the whole run in time: `start` becomes `newStart` and every timeline event keeps its offset from it.
    void startAt(qint64 newStart);

    // Loads a scenario by built-in name ("calm", "upstream-packet-loss") or from a JSON file path; the error is a
    // sentence naming the file and the field.
    static Result<Scenario> load(const QString &nameOrPath);
    static Result<Scenario> fromJson(const QByteArray &json, const QString &origin);
    static QStringList builtInNames();
};

} // namespace fleet::sim
