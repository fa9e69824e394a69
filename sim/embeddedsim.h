#pragma once

#include "result.h"

#include <QString>
#include <QThread>
#include <QUrl>

#include <functional>

namespace fleet::sim {

class FleetSimServer;

// The demo's scripted on-call engineer: in the upstream-packet-loss scenario, provisions replacement workers in
// unaffected regions at 09:20 and 09:40 UTC, as the real on-call staff did, so that operations appear on the charts.
// Done inside the simulator, as another person's actions would be. Used by EmbeddedSim and fleet-sim
// --scripted-operator (the console's --demo).
void installScriptedOperator(FleetSimServer *server);

// fleet-sim running on its own thread inside another program: the console's --demo, GUI tests and benchmarks. It
// serves real HTTP on a free loopback port, with the default tokens (view-secret, op-secret, admin-secret), so the
// program talks to it exactly as it would to a remote fleet.
class EmbeddedSim
{
public:
    struct Options
    {
        QString scenario = QStringLiteral("upstream-packet-loss");
        double speed = 1;
        int workers = 0; // 0: as the scenario says
        int warmupSeconds = -1; // -1: the scenario's
        quint64 seed = 1;
        int heartbeatMs = 15000;
        quint16 port = 0; // 0: a free one
        // The demo's scripted on-call engineer: in the upstream-packet-loss scenario, provisions replacement
        // workers in unaffected regions at 09:20 and 09:40 UTC, as the real on-call staff did, so that operations
        // appear on the charts. Done inside the simulator, as another person's actions would be.
        bool scriptedOperator = false;
    };

    EmbeddedSim();
    ~EmbeddedSim();
    EmbeddedSim(const EmbeddedSim &) = delete;
    EmbeddedSim &operator=(const EmbeddedSim &) = delete;

    // Loads the scenario, runs the warm-up and starts serving.
    Status start(const Options &options);
    quint16 port() const { return m_port; }
    QUrl url() const;
    QString description() const { return m_description; } // "upstream-packet-loss, 240 workers, 120x"

    void stopServing(); // as a crash would: stop listening, drop every stream
    Status startAgain(); // listen again on the same port
    // Runs `call` on the simulator's thread with the server, and waits for it.
    void run(const std::function<void(FleetSimServer &)> &call);

private:
    QThread m_thread;
    QObject *m_context = nullptr; // lives on m_thread
    FleetSimServer *m_server = nullptr; // lives on m_thread
    quint16 m_port = 0;
    QString m_description;
};

} // namespace fleet::sim
