#include "commands.h"

#include "actioncontroller.h"
#include "fleetaction.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "isotime.h"
#include "recommendation.h"
#include "terminalsafe.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTextStream>
#include <QTimer>

#include <cstdio>
#include <memory>
#include <unistd.h>

namespace fleet::ctl {

namespace {
bool g_interrupted = false;
} // namespace

void stopWaitingOnSignal()
{
    onTerminationSignal([] { g_interrupted = true; });
}

bool interrupted()
{
    return g_interrupted;
}

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

void printJson(const QJsonObject &o)
{
    out() << QJsonDocument(o).toJson(QJsonDocument::Compact) << Qt::endl;
}

bool waitUntil(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (g_interrupted || clock.elapsed() >= timeoutMs)
            return false;
        QEventLoop loop;
        QTimer::singleShot(50, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

namespace {

int usage(const QString &message)
{
    err() << "fleetctl: " << message << Qt::endl;
    return Usage;
}

} // namespace

int connectSession(FleetSession &session, const Options &o, bool needVerdicts)
{
    ConnectionProfile profile;
    profile.name = QStringLiteral("fleetctl");
    profile.url = o.config.baseUrl;
    profile.caFile = o.config.caFile;
    profile.insecure = o.config.insecure;
    profile.production = o.production;
    session.connectTo(profile, o.config.token);
    const int ms = o.timeoutSeconds * 1000;
    const bool ready = waitUntil(
        [&] { return session.isLive() && session.identity().has_value() && session.store()->isLoaded(); }, ms);
    if (!ready) {
        if (g_interrupted)
            return Unreachable;
        const ConnectionStatus s = session.status();
        err() << "fleetctl: no live connection to " << o.config.baseUrl.toString() << " within " << o.timeoutSeconds
              << " s: "
              << terminalSafe(
                     s.reason.isEmpty() ? QStringLiteral("still %1, no answer yet").arg(wireName(s.state)) : s.reason)
              << Qt::endl;
        // Offline while trying means the connection gave up: a token or certificate it cannot use (retrying cannot
        // help). Anything else is still being retried: unreachable.
        return s.state == ConnectionState::Offline ? Refused : Unreachable;
    }
    if (needVerdicts) {
        // The verdicts need a window of health history: the backfill brings it.
        waitUntil(
            [&] {
                for (const Region &r : session.store()->regions()) {
                    if (session.healthMonitor()->verdict(r.id) == Verdict::NoData)
                        return false;
                }
                return true;
            },
            std::min(ms, 15000));
    }
    return Ok;
}

namespace {

QJsonObject regionJson(const FleetSession &s, const Region &r)
{
    QJsonObject workers;
    for (int st = 0; st < kWorkerStateCount; ++st)
        workers.insert(wireName(WorkerState(st)).toString(), r.workersByState[st]);
    return QJsonObject { { QStringLiteral("id"), r.id }, { QStringLiteral("name"), r.name },
        { QStringLiteral("verdict"), wireName(s.healthMonitor()->verdict(r.id)) },
        { QStringLiteral("reason"), s.healthMonitor()->reason(r.id) },
        { QStringLiteral("dispatch"), wireName(r.dispatchState).toString() }, { QStringLiteral("workers"), workers },
        { QStringLiteral("capacity_left"), capacityLeft(r) }, { QStringLiteral("packet_loss"), r.packetLoss } };
}

int status(const Options &o)
{
    FleetSession session;
    if (const int rc = connectSession(session, o, true); rc != Ok)
        return rc;
    const FleetStore *store = session.store();
    if (o.json) {
        QJsonArray regions;
        for (const Region &r : store->regions())
            regions.append(regionJson(session, r));
        printJson(QJsonObject { { QStringLiteral("fleet_time"), formatIsoUtc(store->fleetNowMs() / 1000 * 1000) },
            { QStringLiteral("workers"), qint64(store->workers().size()) }, { QStringLiteral("regions"), regions } });
        return Ok;
    }
    out() << "fleet time " << formatIsoUtc(store->fleetNowMs() / 1000 * 1000) << ", " << store->workers().size()
          << " workers" << Qt::endl;
    for (const Region &r : store->regions()) {
        const int inService = r.workersByState[int(WorkerState::Idle)] + r.workersByState[int(WorkerState::Busy)];
        out() << qSetFieldWidth(14) << Qt::left << terminalSafe(r.id) << qSetFieldWidth(10)
              << wireName(session.healthMonitor()->verdict(r.id)) << qSetFieldWidth(0) << " "
              << wireName(r.dispatchState) << ", " << inService << " in service, "
              << r.workersByState[int(WorkerState::Offline)] << " offline, " << capacityLeft(r)
              << " free: " << terminalSafe(session.healthMonitor()->reason(r.id)) << Qt::endl;
    }
    return Ok;
}

QJsonObject actionJson(const FleetAction &a)
{
    return QJsonDocument::fromJson(a.toJson()).object();
}

int recommendCommand(const Options &o)
{
    FleetSession session;
    if (const int rc = connectSession(session, o, true); rc != Ok)
        return rc;
    const Recommendation rec = recommend(*session.store(), *session.healthMonitor(), o.region);
    if (o.json) {
        QJsonArray shares;
        for (const auto &s : rec.shares)
            shares.append(QJsonObject { { QStringLiteral("region"), s.region },
                { QStringLiteral("arch"), wireName(s.arch).toString() }, { QStringLiteral("count"), s.count },
                { QStringLiteral("capacity_left"), s.capacityLeft } });
        printJson(QJsonObject { { QStringLiteral("region"), rec.region }, { QStringLiteral("failing"), rec.failing() },
            { QStringLiteral("degraded"), rec.degraded() }, { QStringLiteral("shares"), shares },
            { QStringLiteral("notes"), QJsonArray::fromStringList(rec.notes) },
            { QStringLiteral("reason"), rec.suggestedReason } });
        return Ok;
    }
    out() << terminalSafe(rec.summary()) << Qt::endl;
    // Commands to paste: every word shell-quoted, and a region id outside the contract never printed as one.
    for (const auto &s : rec.shares) {
        if (const QString problem = idProblem(s.region, QStringLiteral("region")); !problem.isEmpty()) {
            out() << "  # not printed as a command: " << terminalSafe(problem) << Qt::endl;
            continue;
        }
        out() << "  fleetctl provision --region " << shellQuoted(s.region) << " --count " << s.count << " --arch "
              << wireName(s.arch) << " --reason " << shellQuoted(terminalSafe(rec.suggestedReason)) << Qt::endl;
    }
    return Ok;
}

QString operationLine(const Operation &op, qint64 now)
{
    QString what;
    switch (op.type) {
    case OperationType::Provision:
        what = QStringLiteral("provision %1 %2").arg(op.count).arg(wireName(op.arch));
        break;
    case OperationType::DrainWorker:
        what = QStringLiteral("drain worker %1").arg(op.worker);
        break;
    default:
        what = wireName(op.type).toString();
    }
    QString line = QStringLiteral("%1 %2 %3 %4 by %5 (%6/%7): %8")
                       .arg(op.id, wireName(op.state).toString(), what, op.region, op.requestedBy)
                       .arg(op.progressDone)
                       .arg(op.progressTotal)
                       .arg(op.reason);
    if (op.expiresAt > 0 && op.expiresAt > now)
        line += QStringLiteral(" [expires in %1 min]").arg((op.expiresAt - now + 59999) / 60000);
    if (!op.message.isEmpty())
        line += QStringLiteral(" - ") + op.message;
    return terminalSafe(line);
}

QJsonObject operationJson(const Operation &op)
{
    return QJsonObject { { QStringLiteral("id"), op.id }, { QStringLiteral("type"), wireName(op.type).toString() },
        { QStringLiteral("state"), wireName(op.state).toString() }, { QStringLiteral("region"), op.region },
        { QStringLiteral("worker"), op.worker }, { QStringLiteral("count"), op.count },
        { QStringLiteral("requested_by"), op.requestedBy }, { QStringLiteral("reason"), op.reason },
        { QStringLiteral("progress_done"), op.progressDone }, { QStringLiteral("progress_total"), op.progressTotal },
        { QStringLiteral("message"), op.message } };
}

int operations(const Options &o)
{
    FleetSession session;
    if (const int rc = connectSession(session, o, false); rc != Ok)
        return rc;
    FleetStore *store = session.store();
    const auto print = [json = o.json, store](const Operation &op) {
        if (json)
            printJson(operationJson(op));
        else
            out() << operationLine(op, store->fleetNowMs()) << Qt::endl;
    };
    for (const Operation &op : store->operations())
        print(op);
    if (!o.watch)
        return Ok;
    // Every change from the event stream, as it comes, until stopped.
    QObject::connect(
        store->operationTable(), &EntityTable::changed, store, [store, print](const FleetStore::Ranges &rows) {
            for (const auto &[first, last] : rows) {
                for (int r = first; r <= last; ++r)
                    print(store->operations()[std::size_t(r)]);
            }
        });
    auto inserting = std::make_shared<std::pair<int, int>>(0, -1);
    QObject::connect(store->operationTable(), &EntityTable::aboutToBeInserted, store, [inserting](int first, int last) {
        *inserting = { first, last };
    });
    QObject::connect(store->operationTable(), &EntityTable::inserted, store, [store, print, inserting] {
        for (int r = inserting->first; r <= inserting->second && r < int(store->operations().size()); ++r)
            print(store->operations()[std::size_t(r)]);
    });
    waitUntil([] { return false; }, std::numeric_limits<int>::max());
    return Ok;
}

// Reads one line from the terminal.
QString ask(const QString &prompt)
{
    err() << prompt << Qt::flush;
    QTextStream in(stdin);
    return in.readLine().trimmed();
}

// `expiresInMs` (if > 0) is resolved against the fleet's clock once connected: a simulator may run faster than
// real time, and a server's clock is the one that retires the workers.
int perform(QList<FleetAction> actions, const Options &o, qint64 expiresInMs)
{
    FleetSession session;
    if (const int rc = connectSession(session, o, false); rc != Ok)
        return rc;
    if (expiresInMs > 0) {
        for (FleetAction &a : actions)
            a.expiresAt = session.store()->fleetNowMs() + expiresInMs;
    }
    ActionController *controller = session.actions();
    const QString why = session.whyCannotAct(Role::Operator);
    if (!why.isEmpty()) {
        err() << "fleetctl: refused: " << terminalSafe(why) << Qt::endl;
        return Refused;
    }
    // Preview every action (the server's dry run): what will happen.
    bool large = o.production;
    for (const FleetAction &a : actions) {
        // Under packet loss the connection may drop between connecting and previewing: wait for it to be live
        // again and ask again, within --timeout.
        std::optional<ApiResult<DryRunResult>> preview;
        QElapsedTimer asking;
        asking.start();
        const auto remaining = [&] { return std::max<int>(0, o.timeoutSeconds * 1000 - int(asking.elapsed())); };
        for (;;) {
            preview.reset();
            controller->preview(a, &session, [&](ApiResult<DryRunResult> r) { preview = std::move(r); });
            if (!waitUntil([&] { return preview.has_value(); }, remaining()))
                break;
            if (preview->ok() || !preview->error().transient() || remaining() == 0)
                break;
            waitUntil([&] { return session.isLive(); }, remaining());
        }
        if (!preview) {
            err() << "fleetctl: no answer to the dry run of " << terminalSafe(a.describe()) << " within "
                  << o.timeoutSeconds << " s; nothing was sent" << Qt::endl;
            return Unreachable;
        }
        if (!preview->ok()) {
            const ApiError &e = preview->error();
            // Draining what is already draining is not an error: say who and since when.
            if (e.problem && !e.problem->operation.isEmpty()) {
                std::optional<QString> already;
                controller->alreadyBeingDone(
                    a, e.problem->operation, &session, [&](const QString &text) { already = text; });
                waitUntil([&] { return already.has_value(); }, std::max(remaining(), 1000));
                if (already && !already->isEmpty()) {
                    if (o.json)
                        printJson(QJsonObject { { QStringLiteral("kind"), QStringLiteral("result") },
                            { QStringLiteral("action"), actionJson(a) },
                            { QStringLiteral("result"), QStringLiteral("already") },
                            { QStringLiteral("operation"), e.problem->operation },
                            { QStringLiteral("message"), *already } });
                    else
                        out() << "already: " << terminalSafe(a.describe()) << ": " << terminalSafe(*already)
                              << Qt::endl;
                    return Ok;
                }
            }
            err() << "fleetctl: " << terminalSafe(a.describe()) << ": "
                  << terminalSafe(e.problem && !e.problem->detail.isEmpty() ? e.problem->detail : e.message)
                  << Qt::endl;
            return e.transient() ? Unreachable : Refused;
        }
        const DryRunResult &d = preview->value();
        large = large || a.isRegionWide() || d.workersAffected > 20;
        if (o.json) {
            printJson(QJsonObject { { QStringLiteral("kind"), QStringLiteral("preview") },
                { QStringLiteral("action"), actionJson(a) }, { QStringLiteral("workers_affected"), d.workersAffected },
                { QStringLiteral("running_builds"), d.runningBuilds },
                { QStringLiteral("queued_builds"), d.queuedBuilds },
                { QStringLiteral("active_workers_before"), d.activeWorkersBefore },
                { QStringLiteral("active_workers_after"), d.activeWorkersAfter },
                { QStringLiteral("capacity_left"), d.capacityLeft },
                { QStringLiteral("notes"), QJsonArray::fromStringList(d.notes) } });
        } else {
            err() << "preview: " << terminalSafe(a.describe()) << ": " << d.workersAffected << " workers affected, "
                  << d.runningBuilds << " running and " << d.queuedBuilds << " queued builds, active workers "
                  << d.activeWorkersBefore << " -> " << d.activeWorkersAfter << ", capacity left " << d.capacityLeft
                  << Qt::endl;
            for (const QString &note : d.notes)
                err() << "  " << terminalSafe(note) << Qt::endl;
        }
        const QString overlap = controller->overlapWarning(a);
        if (!overlap.isEmpty())
            err() << "warning: already in flight or recent in that region:\n  "
                  << terminalSafe(overlap).replace(QLatin1String("\\n"), QLatin1String("\n  ")) << Qt::endl;
    }
    if (o.dryRun)
        return Ok;
    if (!o.yes) {
        if (!::isatty(STDIN_FILENO)) {
            err() << "fleetctl: refusing to act without confirmation: add --yes (standard input is not a terminal)"
                  << Qt::endl;
            return Refused;
        }
        const QString target = actions.front().region().isEmpty() ? actions.front().target : actions.front().region();
        if (large) {
            if (ask(QStringLiteral("Type the region name (%1) to confirm: ").arg(target)) != target) {
                err() << "fleetctl: not confirmed; nothing was sent" << Qt::endl;
                return Refused;
            }
        } else if (ask(QStringLiteral("Proceed? [y/N] ")).toLower() != QLatin1String("y")) {
            err() << "fleetctl: not confirmed; nothing was sent" << Qt::endl;
            return Refused;
        }
    }
    QList<int> handles;
    for (const FleetAction &a : actions)
        handles << controller->perform(a);
    const auto settled = [&](bool untilDone) {
        for (int h : handles) {
            const auto *t = controller->find(h);
            if (!t->isFinal() && (untilDone || t->phase != ActionController::Phase::Following))
                return false;
        }
        return true;
    };
    // Every wait is bounded: --timeout for an answer; with --wait, --timeout when given, else 30 minutes.
    const int boundSeconds = o.wait ? o.waitSeconds : o.timeoutSeconds;
    waitUntil([&] { return settled(o.wait); }, boundSeconds * 1000);
    int code = Ok;
    for (int h : handles) {
        const auto *t = controller->find(h);
        int rc = Ok;
        switch (t->phase) {
        case ActionController::Phase::Refused:
            rc = Refused;
            break;
        case ActionController::Phase::Failed:
            rc = Failed;
            break;
        case ActionController::Phase::Sending:
        case ActionController::Phase::Uncertain:
        case ActionController::Phase::Abandoned:
            rc = Unreachable;
            break;
        case ActionController::Phase::Following:
            // At the deadline (or interrupted): still running, unless the server's own reports contradicted
            // themselves, which leaves the outcome unknown.
            rc = !t->doubt.isEmpty() ? Unreachable : o.wait ? StillRunning : Ok;
            break;
        case ActionController::Phase::Mismatched:
            rc = Mismatch;
            break;
        case ActionController::Phase::Done:
            break;
        }
        QString result = describe(t->phase);
        if (rc == StillRunning)
            result = QStringLiteral("still running");
        else if (rc == Unreachable && t->phase == ActionController::Phase::Following)
            result = QStringLiteral("unknown");
        QString message = t->message;
        if (rc == StillRunning)
            message = QStringLiteral("not done within %1 s (%2)").arg(boundSeconds).arg(t->message);
        code = std::max(code, rc);
        if (o.json) {
            printJson(QJsonObject { { QStringLiteral("kind"), QStringLiteral("result") },
                { QStringLiteral("action"), actionJson(t->action) }, { QStringLiteral("result"), result },
                { QStringLiteral("exit_code"), rc }, { QStringLiteral("operation"), t->operationId.left(kMaxIdLength) },
                { QStringLiteral("message"), message.left(kTerminalSafeMax) } });
        } else {
            out() << result << ": " << terminalSafe(t->action.describe());
            if (!t->operationId.isEmpty())
                out() << " (" << terminalSafe(t->operationId, kMaxIdLength) << ")";
            if (!message.isEmpty())
                out() << ": " << terminalSafe(message);
            if (rc == Unreachable)
                out() << " [idempotency key " << t->action.idempotencyKey << "]";
            out() << Qt::endl;
        }
    }
    return code;
}

} // namespace

qint64 parseDuration(const QString &text)
{
    static const QRegularExpression re(
        QStringLiteral("^(?:(\\d{1,3})d)?(?:(\\d{1,4})h)?(?:(\\d{1,5})m)?(?:(\\d{1,6})s)?$"));
    const auto m = re.match(text.trimmed());
    if (text.trimmed().isEmpty() || !m.hasMatch())
        return -1;
    const qint64 ms = (m.captured(1).toLongLong() * 86400 + m.captured(2).toLongLong() * 3600
                          + m.captured(3).toLongLong() * 60 + m.captured(4).toLongLong())
        * 1000;
    return ms > 0 ? ms : -1;
}

int run(const QStringList &args, const Options &o)
{
    onTerminationSignal([] {
        g_interrupted = true;
        QCoreApplication::quit();
    });
    const QString command = args.value(0);
    if (command == QLatin1String("status"))
        return status(o);
    if (command == QLatin1String("recommend"))
        return recommendCommand(o);
    if (command == QLatin1String("operations"))
        return operations(o);

    // The mutating commands.
    if (o.reason.trimmed().isEmpty())
        return usage(QStringLiteral("%1 needs --reason TEXT: why, in words (shown to everyone)").arg(command));
    qint64 expiresIn = 0;
    if (!o.expires.isEmpty()) {
        expiresIn = parseDuration(o.expires);
        if (expiresIn < 0)
            return usage(QStringLiteral("--expires \"%1\" is not a duration such as 90m, 2h or 1h30m").arg(o.expires));
    }
    FleetAction action;
    if (command == QLatin1String("provision")) {
        const auto arch = archFromString(o.arch);
        if (o.region.isEmpty() || o.count < 1 || !arch)
            return usage(
                QStringLiteral("provision needs --region R, --count N (1 or more) and --arch amd64|aarch64|armv7hf"));
        action = FleetAction::provision(o.region, o.count, *arch, o.reason);
    } else if (command == QLatin1String("drain") && args.size() == 3 && args[1] == QLatin1String("region")) {
        action = FleetAction::drainRegion(args[2], o.reason);
    } else if (command == QLatin1String("drain") && args.size() == 3 && args[1] == QLatin1String("worker")) {
        action = FleetAction::drainWorker(args[2], o.reason);
    } else if (command == QLatin1String("resume") && args.size() == 3 && args[1] == QLatin1String("region")) {
        action = FleetAction::resumeRegion(args[2], o.reason);
    } else if (command == QLatin1String("cancel") && args.size() == 2) {
        action = FleetAction::cancel(args[1], o.reason);
    } else {
        return usage(QStringLiteral("unknown command \"%1\"; see fleetctl --help").arg(args.join(u' ')));
    }
    if (expiresIn > 0 && action.kind != FleetAction::Kind::Provision && action.kind != FleetAction::Kind::DrainRegion)
        return usage(QStringLiteral("--expires applies to provision and drain region only"));
    return perform({ action }, o, expiresIn);
}

} // namespace fleet::ctl
