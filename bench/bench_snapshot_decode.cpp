// Decoding a 50,000-worker snapshot: WireDecoder against a bare simdjson parse and QJsonDocument of the same bytes,
// and how long the main (GUI) thread is blocked while FleetClient fetches and decodes one from a fleet-sim process.
// Usage: bench_snapshot_decode [--workers N] [--runs N] [--decode-only] [--json FILE | --save FILE] [--profile-decoder]

#include "fleetclient.h"
#include "handlertiming.h"
#include "jsonwriter.h"
#include "simulation.h"
#include "wiredecode.h"
#include "wireencode.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
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

using TimingApplication = HandlerTiming<QCoreApplication>;

QByteArray snapshotBytes(int workers)
{
    QString error;
    auto scenario = sim::Scenario::load(QStringLiteral("upstream-packet-loss"));
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

void decodeFigures(QByteArray json, int runs)
{
    json.reserve(json.size() + qsizetype(simdjson::SIMDJSON_PADDING)); // as FleetClient receives it: padded, no copy
    std::printf("\n== Decode a snapshot (%.1f MB), %d runs, the decoders alternating ==\n", json.size() / 1e6, runs);
    simdjson::dom::parser parser;
    WireDecoder decoder;
    WireDecoder general; // the same decoder without its worker fast path: what the fast path is worth
    general.setWorkerFastPath(false);
    std::size_t elements = 0;
    std::size_t decoded = 0;
    qsizetype fast = 0;
    // Alternating run by run, so all see the same machine: this VM's speed drifts by 30 % over seconds.
    std::vector<double> bare, ours, ratios, generalMs;
    for (int i = 0; i < runs; ++i) {
        QElapsedTimer t;
        t.start();
        simdjson::dom::element root;
        if (parser.parse(json.constData(), std::size_t(json.size()), false).get(root))
            qFatal("simdjson parse failed");
        elements = simdjson::dom::array(root["workers"]).size();
        bare.push_back(double(t.nsecsElapsed()) / 1e6);

        t.restart();
        auto r = decoder.snapshot(json, QStringLiteral("bench"));
        ours.push_back(double(t.nsecsElapsed()) / 1e6); // freeing the result is not decoding: not timed
        if (!r.ok())
            qFatal("%s", qPrintable(r.error()));
        decoded = r.value().workers.size();
        fast = decoder.lastFastPathWorkers();
        ratios.push_back(ours.back() / bare.back());

        t.restart();
        auto g = general.snapshot(json, QStringLiteral("bench"));
        generalMs.push_back(double(t.nsecsElapsed()) / 1e6);
        if (!g.ok() || g.value().workers.size() != decoded)
            qFatal("the general decoder disagrees");
    }
    const double qjson = bestOf(std::min(runs, 5), [&] {
        const QJsonDocument doc = QJsonDocument::fromJson(json);
        if (doc.isNull())
            qFatal("QJsonDocument failed");
    });
    const auto best = [](const std::vector<double> &v) { return *std::min_element(v.begin(), v.end()); };
    const auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::printf("%-34s %8s %8s\n", "", "best ms", "median");
    std::printf("%-34s %8.1f %8.1f  (%zu workers)\n", "bare simdjson DOM parse:", best(bare), median(bare), elements);
    std::printf(
        "%-34s %8.1f %8.1f  (%zu workers)\n", "WireDecoder::snapshot (validate):", best(ours), median(ours), decoded);
    std::printf("%-34s %8.1f %8.1f  (fast path off)\n", "  the same, general decoder only:", best(generalMs),
        median(generalMs));
    std::printf("%-34s %8.1f\n", "QJsonDocument::fromJson only:", qjson);
    std::printf("ratio to the bare parse: best %.2fx, median of the runs' ratios %.2fx (target <= 2x); "
                "QJsonDocument %.1fx\n",
        best(ours) / best(bare), median(ratios), qjson / best(bare));
    std::printf("the worker fast path took %lld of %zu workers\n", static_cast<long long>(fast), decoded);
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
    std::printf("%4s %10s %20s %10s %16s %14s  %s\n", "run", "total ms", "longest handler ms", "(on CPU)",
        "probe worst ms", "probe p99 ms", "longest: event type to receiver");
    Snapshot held;
    for (int run = 1; run <= runs; ++run) {
        lateness.clear();
        worst = 0;
        timing->reset();
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
                held = std::move(r.value());
                // Moved in: were a copy kept here, it could be the last one and free 50,000 workers here.
                (void)QtConcurrent::run([old = std::move(old)] {});
            }
            loop.quit();
        });
        loop.exec();
        probe.stop();
        std::sort(lateness.begin(), lateness.end());
        const double p99 = lateness.empty() ? 0 : lateness[std::size_t(double(lateness.size()) * 0.99)];
        std::printf("%4d %10.0f %20.2f %10.2f %16.2f %14.2f  %s%s\n", run, double(total.nsecsElapsed()) / 1e6,
            timing->longestMs, timing->longestCpuMs, worst, p99, qPrintable(timing->longestWhat), ok ? "" : "  FAILED");
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
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
        QStringLiteral("Decode this snapshot file instead of simulating one (see --save)."), QStringLiteral("file"));
    const QCommandLineOption saveOpt(
        QStringLiteral("save"), QStringLiteral("Write the simulated snapshot to this file."), QStringLiteral("file"));
    const QCommandLineOption profileOpt(QStringLiteral("profile-decoder"),
        QStringLiteral("Only run WireDecoder::snapshot, --runs times, and print its median and that of freeing the "
                       "result (for perf)."));
    parser.addOptions({ workersOpt, runsOpt, decodeOnlyOpt, jsonOpt, saveOpt, profileOpt });
    parser.process(app);
    const int workers = parser.value(workersOpt).toInt();
    const int runs = parser.value(runsOpt).toInt();
    std::printf("bench_snapshot_decode: simdjson %d.%d.%d, implementation %s\n", int(simdjson::SIMDJSON_VERSION_MAJOR),
        int(simdjson::SIMDJSON_VERSION_MINOR), int(simdjson::SIMDJSON_VERSION_REVISION),
        simdjson::get_active_implementation()->name().c_str());
    QByteArray json;
    if (parser.isSet(jsonOpt)) {
        QFile file(parser.value(jsonOpt));
        if (!file.open(QIODevice::ReadOnly))
            qFatal("cannot read %s: %s", qPrintable(file.fileName()), qPrintable(file.errorString()));
        json = file.readAll();
    } else {
        json = snapshotBytes(workers);
    }
    if (parser.isSet(saveOpt)) {
        QFile file(parser.value(saveOpt));
        if (!file.open(QIODevice::WriteOnly) || file.write(json) != json.size() || !file.flush())
            qFatal("cannot write %s: %s", qPrintable(file.fileName()), qPrintable(file.errorString()));
    }
    if (parser.isSet(profileOpt)) {
        json.reserve(json.size() + qsizetype(simdjson::SIMDJSON_PADDING));
        WireDecoder decoder;
        std::vector<double> decodeMs, freeMs;
        for (int i = 0; i < runs; ++i) {
            QElapsedTimer t;
            t.start();
            auto r = std::make_unique<Result<Snapshot>>(decoder.snapshot(json, QStringLiteral("bench")));
            decodeMs.push_back(double(t.nsecsElapsed()) / 1e6);
            if (!r->ok())
                qFatal("decode failed");
            t.restart();
            r.reset();
            freeMs.push_back(double(t.nsecsElapsed()) / 1e6);
        }
        std::sort(decodeMs.begin(), decodeMs.end());
        std::sort(freeMs.begin(), freeMs.end());
        std::printf("decode median %.2f ms, freeing the result median %.2f ms\n", decodeMs[decodeMs.size() / 2],
            freeMs[freeMs.size() / 2]);
        return 0;
    }
    decodeFigures(json, runs);
    if (!parser.isSet(decodeOnlyOpt))
        blockFigures(workers, runs);
    return 0;
}
