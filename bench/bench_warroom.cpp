// War-room display benchmark (issue #14), against fleet-sim on its own thread over loopback HTTP:
//  - freshness: from the moment fleet-sim steps a second of fleet time (and emits its events) to the first frame of
//    the wall that shows that second, p50 and p99;
//  - soak: RSS at the start and the end and its slope over the second half (the history buffers are full after 24 h
//    of fleet time: at 240x that is 6 minutes), event-loop lag (a 5 ms probe timer's lateness), CPU of this program
//    apart from the simulator's thread, and the wall's widget count at the start and the end.
//
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_warroom [--speed 1] [--seconds 60] [--size 3840x2160]
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_warroom --speed 240 --seconds 600 --external-sim   # the soak
//
// --external-sim runs fleet-sim as a separate process (as --demo does), so that RSS and CPU are the console's alone;
// freshness needs the simulator in-process and is not measured then.

#include "benchutil.h"
#include "demofleet.h"
#include "embeddedsim.h"
#include "fleetsession.h"
#include "fleetsimserver.h"
#include "fleetstore.h"
#include "handlertiming.h"
#include "healthchart.h"
#include "theme.h"
#include "warroomview.h"

#include <QAbstractScrollArea>
#include <QApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QFile>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

using namespace fleet;

namespace {

double cpuSeconds(clockid_t clock)
{
    timespec ts {};
    clock_gettime(clock, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double pct(std::vector<double> v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, std::size_t(q * double(v.size())))];
}

// The first paint of a chart that shows a fleet second: how long after fleet-sim stepped it.
class FrameWatch : public QObject
{
public:
    FrameWatch(HealthChart *chart, std::mutex *mutex, std::map<qint64, qint64> *stepped)
        : m_chart(chart)
        , m_mutex(mutex)
        , m_stepped(stepped)
    {
    }
    std::vector<double> latencyMs;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::Paint) {
            const qint64 shown = m_chart->windowTo();
            const qint64 at = nowNs();
            std::lock_guard<std::mutex> lock(*m_mutex);
            for (auto it = m_stepped->begin(); it != m_stepped->end() && it->first <= shown;) {
                latencyMs.push_back(double(at - it->second) / 1e6);
                it = m_stepped->erase(it);
            }
        }
        return QObject::eventFilter(watched, event);
    }

private:
    HealthChart *m_chart;
    std::mutex *m_mutex;
    std::map<qint64, qint64> *m_stepped;
};

} // namespace

int main(int argc, char **argv)
{
    qputenv("TZ", "UTC");
    HandlerTiming<QApplication> app(argc, argv);
    double speed = 1;
    int seconds = 60;
    QSize size(3840, 2160);
    bool external = false;
    for (int i = 1; i < argc; ++i) {
        if (qstrcmp(argv[i], "--external-sim") == 0)
            external = true;
    }
    for (int i = 1; i + 1 < argc; ++i) {
        if (qstrcmp(argv[i], "--speed") == 0)
            speed = atof(argv[i + 1]);
        else if (qstrcmp(argv[i], "--seconds") == 0)
            seconds = std::max(10, atoi(argv[i + 1]));
        else if (qstrcmp(argv[i], "--size") == 0) {
            const QList<QByteArray> wh = QByteArray(argv[i + 1]).split('x');
            size = QSize(wh.value(0).toInt(), wh.value(1).toInt());
        }
    }
    Theme::dark().apply(&app);

    sim::EmbeddedSim sim;
    DemoFleet child;
    QUrl url;
    QString description;
    QString token = QStringLiteral("view-secret");
    std::mutex mutex;
    std::map<qint64, qint64> stepped; // fleet second -> steady clock ns
    std::atomic<double> simCpu { 0 };
    if (external) {
        DemoFleet::Options o;
        o.speed = speed;
        o.warmupSeconds = 2700;
        o.seed = 1;
        o.scriptedOperator = true;
        if (const Status started = child.start(o); !started) {
            std::fprintf(stderr, "bench_warroom: %s\n", qPrintable(started.error()));
            return 1;
        }
        url = child.url();
        description = child.description() + QStringLiteral(" (a separate process)");
        token = child.operatorToken();
    } else {
        sim::EmbeddedSim::Options o;
        o.speed = speed;
        o.warmupSeconds = 2700; // 08:45: the packet loss begins seven fleet minutes in
        o.scriptedOperator = true;
        o.heartbeatMs = 5000;
        if (const Status started = sim.start(o); !started) {
            std::fprintf(stderr, "bench_warroom: %s\n", qPrintable(started.error()));
            return 1;
        }
        url = sim.url();
        description = sim.description() + QStringLiteral(" (on a thread of this program)");
        // When fleet-sim steps each fleet second, on its own thread.
        sim.run([&](sim::FleetSimServer &server) {
            QObject::connect(
                &server, &sim::FleetSimServer::stepped, &server,
                [&](qint64 simulatedMs) {
                    const qint64 at = nowNs();
                    std::lock_guard<std::mutex> lock(mutex);
                    stepped.emplace(simulatedMs / 1000, at);
                    while (stepped.size() > 100000)
                        stepped.erase(stepped.begin());
                    simCpu = cpuSeconds(CLOCK_THREAD_CPUTIME_ID);
                },
                Qt::DirectConnection);
        });
    }

    FleetSession session;
    WarRoomView wall(&session);
    wall.resize(size);
    wall.show();
    ConnectionProfile p;
    p.name = QStringLiteral("bench");
    p.url = url;
    session.connectTo(p, token);

    std::vector<std::unique_ptr<FrameWatch>> watches;
    std::vector<double> lateMs;
    std::vector<std::pair<double, double>> rss; // seconds, MB
    QElapsedTimer clock;
    double longest = 0, longestCpu = 0;
    QString longestWhat;
    std::vector<HandlerTiming<QApplication>::Kind> slowKinds;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    qint64 last = 0;
    QObject::connect(&probe, &QTimer::timeout, &wall, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (last)
            lateMs.push_back(std::max(0.0, double(now - last) / 1e6 - 5.0));
        last = now;
    });
    QTimer sampler;
    sampler.setInterval(5000);
    QObject::connect(
        &sampler, &QTimer::timeout, &wall, [&] { rss.emplace_back(double(clock.elapsed()) / 1000.0, rssMb()); });
    double cpuStart = 0, simCpuStart = 0;
    int widgetsStart = 0;
    QObject::connect(&session, &FleetSession::firstSnapshot, &wall, [&] {
        QTimer::singleShot(3000, &wall, [&] {
            // Watch every chart's paints from here on.
            for (HealthChart *chart : wall.charts()) {
                for (QWidget *w : chart->findChildren<QWidget *>()) {
                    if (w->inherits("QGraphicsView")) {
                        auto watch = std::make_unique<FrameWatch>(chart, &mutex, &stepped);
                        static_cast<QAbstractScrollArea *>(w)->viewport()->installEventFilter(watch.get());
                        watches.push_back(std::move(watch));
                    }
                }
            }
            {
                std::lock_guard<std::mutex> lock(mutex);
                stepped.clear();
            }
            widgetsStart = int(wall.findChildren<QWidget *>().size());
            clock.start();
            cpuStart = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
            simCpuStart = simCpu;
            rss.emplace_back(0.0, rssMb());
            probe.start();
            sampler.start();
            app.reset();
            QTimer::singleShot(seconds * 1000, &app, [&] {
                probe.stop(); // the window ends here: quitting is not part of it
                longest = app.longestMs;
                longestCpu = app.longestCpuMs;
                longestWhat = app.longestWhat;
                slowKinds = app.slowKinds();
                QApplication::quit();
            });
        });
    });
    QTimer::singleShot(120'000 + seconds * 1000, &app, [&] {
        std::fprintf(stderr, "bench_warroom: no data\n");
        QApplication::exit(1);
    });
    if (const int rc = QApplication::exec(); rc != 0)
        return rc;

    const double wallSeconds = double(clock.elapsed()) / 1000.0;
    const double cpu = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpuStart - (simCpu - simCpuStart);
    rss.emplace_back(wallSeconds, rssMb());
    // RSS slope over the second half of the run (MB per hour of wall time), by least squares.
    double slope = 0;
    {
        std::vector<std::pair<double, double>> half;
        for (const auto &s : rss) {
            if (s.first >= wallSeconds / 2)
                half.push_back(s);
        }
        if (half.size() >= 3) {
            double mx = 0, my = 0;
            for (const auto &s : half) {
                mx += s.first;
                my += s.second;
            }
            mx /= double(half.size());
            my /= double(half.size());
            double num = 0, den = 0;
            for (const auto &s : half) {
                num += (s.first - mx) * (s.second - my);
                den += (s.first - mx) * (s.first - mx);
            }
            slope = den > 0 ? num / den * 3600 : 0;
        }
    }
    std::vector<double> fresh;
    for (const auto &w : watches)
        fresh.insert(fresh.end(), w->latencyMs.begin(), w->latencyMs.end());
    std::printf("war room %dx%d, %s, %.0f s of wall time (%.1f h of fleet time), %d charts, lines %d px\n",
        size.width(), size.height(), qPrintable(description), wallSeconds, wallSeconds * speed / 3600.0,
        int(wall.charts().size()), wall.lineWidth());
    if (!external)
        std::printf("freshness, fleet-sim step to the first frame showing it: p50 %.0f ms, p99 %.0f ms (%zu frames x "
                    "seconds; goal p99 < 500 ms)\n",
            pct(fresh, 0.5), pct(fresh, 0.99), fresh.size());
    std::printf("event-loop lag: p50 %.2f ms, p99 %.2f ms, max %.1f ms (%zu probes; goal p99 < 16 ms)\n",
        pct(lateMs, 0.5), pct(lateMs, 0.99), lateMs.empty() ? 0.0 : *std::max_element(lateMs.begin(), lateMs.end()),
        lateMs.size());
    std::printf("longest GUI-thread handler: %.1f ms (%.1f ms of it on the CPU), %s\n", longest, longestCpu,
        qPrintable(longestWhat));
    for (const auto &k : slowKinds)
        std::printf("  %5d handlers of %.0f ms or more, worst %.1f ms (%.1f on the CPU): %s\n", k.count, app.slowMs,
            k.worstMs, k.worstCpuMs, qPrintable(k.what));
    std::printf("CPU without the simulator's thread: %.1f%% of one core (goal < 10%% at 1x)\n",
        100.0 * cpu / std::max(1.0, wallSeconds));
    std::printf("RSS of this program: start %.0f MB, end %.0f MB, slope over the second half "
                "%+.1f MB/h\n",
        rss.front().second, rss.back().second, slope);
    std::printf("widgets in the wall: %d at the start, %d at the end\n", widgetsStart,
        int(wall.findChildren<QWidget *>().size()));
    return 0;
}
