// Console benchmark (issue #5): startup to first live data against a local fleet-sim, and GUI event-loop lag while
// the demo runs. A probe timer asks to fire every 5 ms and records how late it is; the percentiles of that lateness
// are how long the GUI thread was busy when a person could have clicked.
//
// With --record the session keeps its local store, so the incident record (issue #24) is written while it runs: its
// overhead is the lag compared with a run without, and the store's growth per fleet hour is printed.
//
// With --external-sim fleet-sim runs as a separate process (as --demo runs it; found beside the build's fleet-console,
// or on PATH), so that the RSS printed is the console's alone and the simulator's threads are not this process's.
//
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_console [--workers 50000] [--speed 120] [--seconds 30]
//   [--record] [--external-sim]

#include "benchutil.h"
#include "consolewindow.h"
#include "demofleet.h"
#include "embeddedsim.h"
#include "fleetconnection.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "handlertiming.h"
#include "incidentrecorder.h"
#include "localstore.h"
#include "theme.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace fleet;

int main(int argc, char **argv)
{
    qputenv("TZ", "UTC");
    HandlerTiming<QApplication> app(argc, argv);
    int workers = 50000;
    double speed = 120;
    int seconds = 30;
    bool record = false;
    bool external = false;
    for (int i = 1; i < argc; ++i) {
        record = record || qstrcmp(argv[i], "--record") == 0;
        external = external || qstrcmp(argv[i], "--external-sim") == 0;
    }
    for (int i = 1; i + 1 < argc; ++i) {
        if (qstrcmp(argv[i], "--workers") == 0)
            workers = atoi(argv[i + 1]);
        else if (qstrcmp(argv[i], "--speed") == 0)
            speed = atof(argv[i + 1]);
        else if (qstrcmp(argv[i], "--seconds") == 0)
            seconds = atoi(argv[i + 1]);
    }
    Theme::dark().apply(&app);
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("s.ini")), QSettings::IniFormat);

    sim::EmbeddedSim sim;
    DemoFleet child;
    QUrl url;
    QElapsedTimer simStart;
    simStart.start();
    if (external) {
        DemoFleet::Options o;
        o.workers = workers;
        o.speed = speed;
        o.warmupSeconds = 2700;
        o.scriptedOperator = true;
        if (const Status started = child.start(o); !started) {
            std::fprintf(stderr, "bench_console: %s\n", qPrintable(started.error()));
            return 1;
        }
        url = child.url();
        std::printf("fleet-sim: %s, a separate process (started in %.1f s)\n", qPrintable(child.description()),
            double(simStart.elapsed()) / 1000);
    } else {
        sim::EmbeddedSim::Options o;
        o.workers = workers;
        o.speed = speed;
        o.warmupSeconds = 2700;
        o.scriptedOperator = true;
        if (const Status started = sim.start(o); !started) {
            std::fprintf(stderr, "bench_console: %s\n", qPrintable(started.error()));
            return 1;
        }
        url = sim.url();
        std::printf("fleet-sim: %s, on a thread of this program (started in %.1f s)\n", qPrintable(sim.description()),
            double(simStart.elapsed()) / 1000);
    }

    QElapsedTimer startup;
    startup.start();
    FleetSession session;
    if (record && !session.openLocalStore(dir.filePath(QStringLiteral("store.sqlite")))) {
        std::fprintf(stderr, "bench_console: the local store did not open\n");
        return 1;
    }
    ConsoleWindow window(&session, &settings);
    window.resize(1600, 1000);
    window.show();
    qint64 firstData = -1, live = -1, wholeFleet = -1;
    QObject::connect(&window, &ConsoleWindow::firstDataShown, &window, [&] { firstData = startup.elapsed(); });
    QObject::connect(session.store(), &FleetStore::snapshotApplied, &window, [&] {
        if (wholeFleet < 0)
            wholeFleet = startup.elapsed();
    });
    ConnectionProfile p;
    p.name = QStringLiteral("bench");
    p.url = url;
    window.connectTo(p, external ? child.viewerToken() : QStringLiteral("view-secret"));
    QObject::connect(window.connection(), &FleetConnection::statusChanged, &window, [&](const ConnectionStatus &s) {
        if (s.state == ConnectionState::Live && live < 0)
            live = startup.elapsed();
    });

    std::vector<double> lateMs;
    QElapsedTimer probeClock;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    qint64 last = 0;
    QObject::connect(&probe, &QTimer::timeout, &window, [&] {
        const qint64 now = probeClock.nsecsElapsed();
        if (last)
            lateMs.push_back(std::max(0.0, double(now - last) / 1e6 - 5.0));
        last = now;
    });
    qint64 fleetFrom = 0;
    double longest = 0, longestCpu = 0;
    double waitedFrom = 0, waited = 0; // the GUI thread's time runnable but waiting for a core
    QString longestWhat;
    std::vector<HandlerTiming<QApplication>::Kind> slowKinds;
    QObject::connect(&window, &ConsoleWindow::firstDataShown, &window, [&] {
        // Measure from the first data on: the steady state of a console someone is watching.
        QTimer::singleShot(2000, &window, [&] {
            fleetFrom = session.store()->fleetNowMs();
            probeClock.start();
            waitedFrom = runQueueWaitMs();
            probe.start();
            app.reset();
            QTimer::singleShot(seconds * 1000, &app, [&] {
                // The window ends here: what quitting costs is not part of it.
                probe.stop();
                waited = runQueueWaitMs() - waitedFrom;
                longest = app.longestMs;
                longestCpu = app.longestCpuMs;
                longestWhat = app.longestWhat;
                slowKinds = app.slowKinds();
                QApplication::quit();
            });
        });
    });
    QTimer::singleShot(120'000, &app, [&] {
        std::fprintf(stderr, "bench_console: no data after 120 s\n");
        QApplication::exit(1);
    });
    const int rc = QApplication::exec();
    if (rc != 0)
        return rc;
    std::sort(lateMs.begin(), lateMs.end());
    auto pct = [&](double q) {
        return lateMs.empty() ? 0.0 : lateMs[std::min(lateMs.size() - 1, std::size_t(q * double(lateMs.size())))];
    };
    std::printf(
        "startup: first data on screen after %lld ms (target < 400 ms), every worker in the store after %lld ms, "
        "live after %lld ms\n",
        firstData, wholeFleet, live);
    std::printf(
        "event-loop lag over %d s (%zu probes of 5 ms): p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < 16 ms)\n",
        seconds, lateMs.size(), pct(0.5), pct(0.99), lateMs.empty() ? 0.0 : lateMs.back());
    std::printf(
        "GUI-thread handlers of %.0f ms or more, by kind (count, worst wall ms, worst on-CPU ms):\n", app.slowMs);
    for (const auto &k : slowKinds)
        std::printf("  %5d %8.1f %8.1f  %s\n", k.count, k.worstMs, k.worstCpuMs, qPrintable(k.what));
    std::printf("longest GUI-thread handler: %.1f ms (%.1f ms of it on the CPU), %s\n", longest, longestCpu,
        qPrintable(longestWhat));
    std::printf(
        "the GUI thread waited for a core %.0f ms in all over the %d s (ready to run, another thread or process "
        "on both cores)\n",
        waited, seconds);
    std::printf("console: %zu workers in the store, RSS %.0f MB (%s)\n", window.store()->workers().size(), rssMb(),
        external ? "the console alone" : "includes the embedded fleet-sim");
    if (record) {
        session.recorder()->flush();
        const double fleetHours = double(session.store()->fleetNowMs() - fleetFrom) / 3600e3;
        const qint64 bytes = IncidentRecorder::sizeBytes(session.localStore());
        std::printf("incident record: %lld s of health written, %.2f MB in the store after %.2f fleet hours (%.2f MB "
                    "per fleet hour, %zu regions)\n",
            qlonglong(session.recorder()->samplesRecorded()), double(bytes) / (1 << 20), fleetHours,
            fleetHours > 0 ? double(bytes) / (1 << 20) / fleetHours : 0.0, session.store()->regions().size());
    } else {
        std::printf("incident record: off (run with --record to write it)\n");
    }
    return 0;
}
