#pragma once

#include "result.h"

#include <QObject>
#include <QProcess>
#include <QUrl>

namespace fleet {

// The console's --demo: the fleet-sim executable installed beside the console, run as a child process on a free
// loopback port with fresh random tokens, so the console talks to it exactly as to a remote fleet and does not carry
// the simulator (nor Qt HttpServer) itself. The child dies with the console, also when the console is killed: it
// gets SIGTERM from the kernel when its parent goes (PR_SET_PDEATHSIG).
class DemoFleet : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QString scenario = QStringLiteral("upstream-packet-loss");
        double speed = 120;
        int workers = 0; // 0: as the scenario says
        int warmupSeconds = -1; // -1: the scenario's
        quint64 seed = 1;
        bool scriptedOperator = true; // the simulated on-call engineer provisions replacements (markers)
        QString program; // fleet-sim to run; empty: findSimulator()
    };

    explicit DemoFleet(QObject *parent = nullptr);
    ~DemoFleet() override; // stops the child

    // Where fleet-sim is looked for: beside this executable (an install), ../fleet-sim/ (a build tree), then PATH.
    static Result<QString> findSimulator();

    // Starts fleet-sim and waits (up to timeoutMs) until it listens. The error says what went wrong and what to do.
    Status start(const Options &options, int timeoutMs = 20000);
    void stop();

    QUrl url() const { return m_url; }
    QString operatorToken() const { return m_operatorToken; }
    QString viewerToken() const { return m_viewerToken; }
    QString description() const { return m_description; } // "upstream-packet-loss, 240 workers, 120x"
    qint64 processId() const;
    bool isRunning() const { return m_process.state() == QProcess::Running; }

Q_SIGNALS:
    void exitedUnexpectedly(const QString &why);

private:
    void drainStderr();

    QProcess m_process;
    QByteArray m_stderrTail; // the last 4 KB the child wrote to stderr
    bool m_started = false;
    QUrl m_url;
    QString m_operatorToken;
    QString m_viewerToken;
    QString m_description;
    bool m_stopping = false;
};

} // namespace fleet
