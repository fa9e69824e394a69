#pragma once

#include "result.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <vector>

namespace fleet::sim {

// Faults the admin role injects for tests: error statuses, stalled responses, malformed bodies, silent streams.
// Each applies to requests whose path starts with `match` (never to /v1/sim/), for `count` requests or
// `duration_ms` milliseconds, whichever ends first.
class FaultInjector
{
public:
    enum class Kind { None, Error, Stall, Malformed, StallStream };

    struct Decision
    {
        Kind kind = Kind::None;
        int status = 503;
        int retryAfterSeconds = 0;
        int delayMs = 0;
        QString mode; // malformed: "truncate", "not_json", "wrong_types"
        QString faultId;
    };

    FaultInjector();

    // Adds a fault from its JSON description: its id, or what is wrong with the description.
    Result<QString> add(const QJsonObject &spec);
    void clear();
    QJsonArray list() const;

    // Consumes one use of the first matching fault. An event stream request is only matched by error faults.
    Decision forRequest(const QString &path, bool isStream);
    bool streamsStalled() const;

private:
    struct Fault
    {
        QString id;
        Kind kind = Kind::None;
        QString match;
        int remaining = -1; // -1: no count limit
        qint64 untilMs = 0; // 0: no time limit
        Decision decision;
    };

    void expire();

    std::vector<Fault> m_faults;
    QElapsedTimer m_clock;
    int m_nextId = 1;
};

} // namespace fleet::sim
