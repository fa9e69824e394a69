// Time to mitigate (issue #12): the console offscreen on the upstream-packet-loss incident, from the moment EU
// Central's verdict turns degraded to the replacement workers taking builds in healthy regions, driven as an
// engineer would (the shortcut, then Enter on the pre-filled, previewed dialog). Prints the interactions and the
// simulated and wall time of each phase. The simulator runs on its own thread at --speed (default 30x).
//
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_mitigate [--speed 30]

#include "actioncontroller.h"
#include "actiondialog.h"
#include "consolewindow.h"
#include "embeddedsim.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "theme.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QKeyEvent>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <functional>

using namespace fleet;

namespace {

bool waitFor(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QEventLoop loop;
        QTimer::singleShot(10, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

void press(QWidget *target, int key, Qt::KeyboardModifiers modifiers)
{
    QKeyEvent down(QEvent::KeyPress, key, modifiers);
    QKeyEvent up(QEvent::KeyRelease, key, modifiers);
    QApplication::sendEvent(target, &down);
    QApplication::sendEvent(target, &up);
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    double speed = 30;
    for (int i = 1; i + 1 < argc; ++i) {
        if (qstrcmp(argv[i], "--speed") == 0)
            speed = atof(argv[i + 1]);
    }
    Theme::dark().apply(&app);
    sim::EmbeddedSim sim;
    sim::EmbeddedSim::Options o;
    o.speed = speed;
    o.warmupSeconds = 3000; // 08:50 UTC, before the packet loss starts
    o.seed = 3;
    if (const Status started = sim.start(o); !started) {
        std::fprintf(stderr, "bench_mitigate: %s\n", qPrintable(started.error()));
        return 1;
    }
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("s.ini")), QSettings::IniFormat);
    FleetSession session;
    session.openLocalStore(dir.filePath(QStringLiteral("store.sqlite")));
    ConsoleWindow window(&session, &settings);
    window.resize(1366, 768);
    window.show();
    ConnectionProfile profile;
    profile.name = QStringLiteral("bench");
    profile.url = sim.url();
    session.connectTo(profile, QStringLiteral("op-secret"));

    qint64 verdictFleetMs = 0;
    QElapsedTimer wall;
    QObject::connect(session.healthMonitor(), &HealthMonitor::verdictChanged, &app, [&](const VerdictChange &c) {
        if (c.region == QLatin1String("eu-central") && c.to != Verdict::Healthy && verdictFleetMs == 0) {
            verdictFleetMs = session.store()->fleetNowMs();
            wall.start();
        }
    });
    if (!waitFor([&] { return verdictFleetMs != 0; }, int(3600 * 1000 / speed))) {
        std::fprintf(stderr, "bench_mitigate: EU Central never turned degraded\n");
        return 1;
    }
    int interactions = 0;
    window.focusRegion(QStringLiteral("eu-central"));
    press(&window, Qt::Key_P, Qt::ControlModifier | Qt::ShiftModifier);
    ++interactions;
    ActionDialog *dialog = window.actionDialog();
    if (!dialog || !waitFor([&] { return dialog->isPreviewed(); }, 30000)) {
        std::fprintf(stderr, "bench_mitigate: no previewed dialog\n");
        return 1;
    }
    const qint64 previewWall = wall.elapsed();
    int requested = 0;
    for (const FleetAction &a : dialog->actions())
        requested += a.count;
    press(dialog, Qt::Key_Return, Qt::NoModifier);
    ++interactions;
    const auto &tracked = session.actions()->tracked();
    const auto all = [&](ActionController::Phase p) {
        return !tracked.isEmpty()
            && std::all_of(tracked.begin(), tracked.end(), [p](const auto &t) { return t.phase == p; });
    };
    waitFor([&] { return all(ActionController::Phase::Following); }, 30000);
    const qint64 acceptedWall = wall.elapsed();
    const qint64 acceptedFleet = session.store()->fleetNowMs();
    if (!waitFor([&] { return all(ActionController::Phase::Done); }, 600000)) {
        std::fprintf(stderr, "bench_mitigate: the workers never all took builds\n");
        return 1;
    }
    const qint64 doneWall = wall.elapsed();
    const qint64 doneFleet = session.store()->fleetNowMs();
    std::printf("time to mitigate, upstream-packet-loss at %.0fx, %d requests for %d workers\n", speed,
        int(tracked.size()), requested);
    std::printf("  interactions (key presses and clicks): %d (goal: at most 6)\n", interactions);
    std::printf("  verdict change -> dialog previewed:     wall %6.2f s\n", previewWall / 1000.0);
    std::printf("  verdict change -> operations accepted: wall %6.2f s   fleet %6.1f s\n", acceptedWall / 1000.0,
        (acceptedFleet - verdictFleetMs) / 1000.0);
    std::printf("  verdict change -> workers idle/busy:   wall %6.2f s   fleet %6.1f s (provisioning itself takes "
                "1-2 fleet minutes)\n",
        doneWall / 1000.0, (doneFleet - verdictFleetMs) / 1000.0);
    return 0;
}
