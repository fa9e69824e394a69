// Decoding a 50,000-worker snapshot: WireDecoder against a bare simdjson parse and QJsonDocument of the same bytes,
// and how long the main (GUI) thread is blocked while FleetClient fetches and decodes one from a fleet-sim process.
// Usage: bench_snapshot_decode [--workers N] [--runs N]

#include "fleetclient.h"
#include "jsonwriter.h"
#include "simulation.h"
#include "wiredecode.h"
#include "wireencode.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

#include <simdjson.h>

#include <algorithm>
#include <cstdio>

using namespace fleet;

namespace {

// Times every event the main thread handles: the longest is the longest the thread was blocked by this code.
class TimingApplication : public QCoreApplication
{
public:
    using QCoreApplication::QCoreApplication;

    bool notify(QObject *receiver, QEvent *event) override
    {
        if (m_depth++ > 0) {
            const bool r = QCoreApplication::notify(receiver, event);
            --m_depth;
            return r;
        }
        QElapsedTimer t;
        t.start();
        const bool r = QCoreApplication::notify(receiver, event);
        --m_depth;
        longestMs = std::max(longestMs, double(t.nsecsElapsed()) / 1e6);
        return r;
    }

    double longestMs = 0;

private:
    int m_depth = 0;
};

QByteArray snapshotBytes(int workers)
{
    QString error;
    auto scenario = sim::Scenario::load(QStringLiteral("upstream-packet-loss"), &error);
    sim::SimulationOptions options;
    options.workers = workers;
    sim::Simulation simulation(std::move(*scenario), options);
    simulation.advance(7200); // into the incident: busy, offline and failing workers
    return simulation.snapshotJson(); // exactly what GET /v1/fleet/snapshot sends
}

template <typename Fn> double bestOf(int runs, Fn &&fn)
{
    double best = 1e300;
    for (int i = 0; i < runs; ++i) {
        QElapsedTimer t;
        t.start();
        fn();
        best = std::min(best, double(t.nsecsElapsed()) / 1e6);
    }
    return best;
}

void decodeFigures(int workers, int runs)
{
    QByteArray json = snapshotBytes(workers);
    json.reserve(json.size() + qsizetype(simdjson::SIMDJSON_PADDING)); // as FleetClient receives it: padded, no copy
    std::printf("\n== Decode a %d-worker snapshot (%.1f MB), best of %d runs ==\n", workers, json.size() / 1e6, runs);
    simdjson::dom::parser parser;
    std::size_t elements = 0;
    const double bare = bestOf(runs, [&] {
        simdjson::dom::element root;
        if (parser.parse(json.constData(), std::size_t(json.size()), false).get(root))
            qFatal("simdjson parse failed");
        elements = simdjson::dom::array(root["workers"]).size();
    });
    WireDecoder decoder;
    std::size_t decoded = 0;
    double ours = 1e300;
    for (int i = 0; i < runs; ++i) {
        QElapsedTimer t;
        t.start();
        auto r = decoder.snapshot(json, QStringLiteral("bench"));
        ours = std::min(ours, double(t.nsecsElapsed()) / 1e6); // freeing the result is not decoding: not timed
        if (!r.ok())
            qFatal("%s", qPrintable(r.error()));
        decoded = r.value().workers.size();
    }
    const double qjson = bestOf(std::min(runs, 5), [&] {
        const QJsonDocument doc = QJsonDocument::fromJson(json);
        if (doc.isNull())
            qFatal("QJsonDocument failed");
    });
    std::printf("bare simdjson DOM parse:          %8.1f ms  (%zu workers)\n", bare, elements);
    std::printf("WireDecoder::snapshot (validate): %8.1f ms  (%zu workers)  = %.2fx the bare parse (target <= 2x)\n",
        ours, decoded, ours / bare);
    std::printf(
        "QJsonDocument::fromJson only:     %8.1f ms                  = %.2fx the bare parse\n", qjson, qjson / bare);
}

void blockFigures(int workers, int runs)
{
    std::printf("\n== Main-thread blocking while FleetClient fetches and decodes a %d-worker snapshot ==\n", workers);
    QProcess sim;
    sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    // fleet-sim runs niced: in production the server is another machine, and on 2 cores its snapshot encoding
    // would otherwise compete with the thread being measured.
    sim.start(QStringLiteral("nice"),
        { QStringLiteral("-n"), QStringLiteral("19"), QStringLiteral(FLEET_SIM_BINARY), QStringLiteral("--workers"),
            QString::number(workers), QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--speed"),
            QStringLiteral("1"), QStringLiteral("--rate-limit"), QStringLiteral("0") });
    QByteArray out;
    QString base;
    const QRegularExpression listening(QStringLiteral("listening on (http://[^\\s]+)"));
    while (base.isEmpty() && sim.waitForReadyRead(60000)) {
        out += sim.readAllStandardOutput();
        const auto m = listening.match(QString::fromUtf8(out));
        if (m.hasMatch())
            base = m.captured(1);
    }
    if (base.isEmpty())
        qFatal("fleet-sim did not start");

    ClientConfig config;
    config.baseUrl = QUrl(base);
    config.token = QStringLiteral("view-secret");
    FleetClient client(config);
    // A 1 ms probe timer: how late it fires is how long the thread was blocked.
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed();
    double worst = 0;
    std::vector<double> lateness;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(1);
    QObject::connect(&probe, &QTimer::timeout, &probe, [&] {
        const qint64 now = clock.nsecsElapsed();
        const double late = std::max(0.0, double(now - last) / 1e6 - 1.0);
        lateness.push_back(late);
        worst = std::max(worst, late);
        last = now;
    });
    auto *timing = static_cast<TimingApplication *>(QCoreApplication::instance());
    std::printf("%4s %10s %22s %18s %16s\n", "run", "total ms", "longest handler ms", "probe worst ms", "probe p99 ms");
    Snapshot held;
    for (int run = 1; run <= runs; ++run) {
        lateness.clear();
        worst = 0;
        timing->longestMs = 0;
        QEventLoop loop;
        QElapsedTimer total;
        total.start();
        last = clock.nsecsElapsed();
        probe.start();
        bool ok = false;
        client.snapshot(&loop, [&](ApiResult<Snapshot> r) {
            ok = r.ok();
            // Keep it, as the fleet store would; free the previous one off this thread, as the store does.
            if (ok) {
                auto old = std::make_shared<Snapshot>(std::move(held));
                held = std::move(*r.value);
                (void)QtConcurrent::run([old] {});
            }
            loop.quit();
        });
        loop.exec();
        probe.stop();
        std::sort(lateness.begin(), lateness.end());
        const double p99 = lateness.empty() ? 0 : lateness[std::size_t(double(lateness.size()) * 0.99)];
        std::printf("%4d %10.0f %22.2f %18.2f %16.2f%s\n", run, double(total.nsecsElapsed()) / 1e6, timing->longestMs,
            worst, p99, ok ? "" : "  FAILED");
        std::fflush(stdout);
    }
    sim.terminate();
    sim.waitForFinished();
}

} // namespace

int main(int argc, char **argv)
{
    TimingApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption workersOpt(
        QStringLiteral("workers"), QStringLiteral("Fleet size."), QStringLiteral("n"), QStringLiteral("50000"));
    const QCommandLineOption runsOpt(
        QStringLiteral("runs"), QStringLiteral("Repetitions."), QStringLiteral("n"), QStringLiteral("5"));
    const QCommandLineOption decodeOnlyOpt(
        QStringLiteral("decode-only"), QStringLiteral("Skip the fleet-sim part (for profiling)."));
    parser.addOptions({ workersOpt, runsOpt, decodeOnlyOpt });
    parser.process(app);
    const int workers = parser.value(workersOpt).toInt();
    const int runs = parser.value(runsOpt).toInt();
    std::printf("bench_snapshot_decode: simdjson %d.%d.%d, implementation %s\n", int(simdjson::SIMDJSON_VERSION_MAJOR),
        int(simdjson::SIMDJSON_VERSION_MINOR), int(simdjson::SIMDJSON_VERSION_REVISION),
        simdjson::get_active_implementation()->name().c_str());
    decodeFigures(workers, runs);
    if (!parser.isSet(decodeOnlyOpt))
        blockFigures(workers, runs);
    return 0;
}
