#pragma once

#include "result.h"

#include "fleettypes.h"

#include <QString>

#include <array>
#include <memory>
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

// An incident bundle as fleet-sim replays it (issue #24, item 4): every region's recorded health second by second and
// the operations as they stood, served over the Fleet API instead of a simulation.
struct Recording
{
    QString file;
    qint64 startMs = 0; // the scenario's start as the bundle put it (a second before its first sample)
    // Per region (in the scenario's order), per second from startMs + 1 s: the health timeline's 16 values (NaN: none).
    std::vector<std::vector<std::array<float, 16>>> seconds;
    std::vector<Operation> operations; // each state as recorded, in time order
    std::vector<qint64> operationTimes; // when each of them was recorded
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
    std::shared_ptr<const Recording> recording; // a replay of an incident bundle instead of a simulation

    int totalWorkers() const;
    // Moves the whole run in time: `start` becomes `newStart` and every timeline event keeps its offset from it.
    void startAt(qint64 newStart);

    // Loads a scenario by built-in name ("calm", "upstream-packet-loss"), from a JSON file path, or from an incident
    // bundle (a replay); the error is a sentence naming the file and the field.
    static Result<Scenario> load(const QString &nameOrPath);
    // An incident bundle (api/incidentbundle.h) as a scenario that replays it.
    static Result<Scenario> fromBundle(const QByteArray &file, const QString &origin);
    static Result<Scenario> fromJson(const QByteArray &json, const QString &origin);
    static QStringList builtInNames();
};

} // namespace fleet::sim
