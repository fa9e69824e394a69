#pragma once

#include "clientconfig.h"

#include <QCommandLineParser>
#include <QJsonObject>
#include <QStringList>
#include <QTextStream>

#include <functional>

namespace fleet {
class FleetSession;
}

namespace fleet::ctl {

// Exit codes of every fleetctl command (docs/fleetctl.md).
enum Exit : int {
    Ok = 0,
    Usage = 2, // a bad invocation: nothing was sent
    Refused = 3, // the server said no (403, 409, 422), the role is too low, or a confirmation was not given
    Failed = 4, // the operation failed or was cancelled
    Unreachable = 5, // no live connection, or no answer: whether it happened is unknown (the key is printed)
    Mismatch = 6, // the server answered with something other than what was asked (both are printed); not followed
    StillRunning = 7, // --wait: accepted, but not done by the deadline (--timeout, or 30 minutes)
};

struct Options
{
    ClientConfig config;
    bool json = false;
    bool yes = false;
    bool dryRun = false;
    bool wait = false;
    bool watch = false;
    bool production = false; // --production: confirmations as for a production profile
    int timeoutSeconds = 60;
    int waitSeconds = 1800; // --wait's bound: --timeout when given, else 30 minutes
    QString region;
    int count = 0;
    QString arch;
    QString reason;
    QString expires; // a duration: 90s, 30m, 2h, 1h30m
};

// status, recommend, operations, provision, drain, resume, cancel. `args` are the positional arguments.
int run(const QStringList &args, const Options &options);

// Shared by the commands: standard output and error, one JSON line, and running the event loop until `done()` is
// true, the time is up or the process is told to stop (false then).
QTextStream &out();
QTextStream &err();
void printJson(const QJsonObject &object);
bool waitUntil(const std::function<bool()> &done, int timeoutMs);

// A live, identified session with the fleet loaded (and, with `needVerdicts`, every region judged), or an exit code.
int connectSession(FleetSession &session, const Options &options, bool needVerdicts);
// Ctrl-C and SIGTERM end waitUntil early (it returns false) instead of the process.
void stopWaitingOnSignal();
bool interrupted();

// "90s", "30m", "2h", "1h30m", "7d" in milliseconds; -1 when it is not such a duration.
qint64 parseDuration(const QString &text);

} // namespace fleet::ctl
