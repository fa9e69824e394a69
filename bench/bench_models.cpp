// The models at fleet scale: one tick of deltas with 1% of 50,000 workers changed against a full model reset of
// the same data (both with the worker table's sort/filter proxy attached), the M4 reduction of a day to 1,920
// pixel columns, and the memory of 50,000 workers plus 24 hours of history for 30 regions.
// Usage: bench_models [--workers N] [--regions N] [--runs N]

#include "fleetstore.h"
#include "m4.h"
#include "simulation.h"
#include "wiredecode.h"
#include "workermodel.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>

#include <cmath>
#include <cstdio>

using namespace fleet;

namespace {

long rssKiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &l : status.readAll().split('\n')) {
        if (l.startsWith("VmRSS:"))
            return l.mid(6).trimmed().split(' ').first().toLong();
    }
    return 0;
}

class ResettableWorkerModel : public WorkerModel
{
public:
    using WorkerModel::WorkerModel;
    void reset()
    {
        beginResetModel();
        endResetModel();
    }
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption workersOpt(
        QStringLiteral("workers"), QStringLiteral("Fleet size."), QStringLiteral("n"), QStringLiteral("50000"));
    const QCommandLineOption regionsOpt(QStringLiteral("regions"), QStringLiteral("Regions with 24 h of history."),
        QStringLiteral("n"), QStringLiteral("30"));
    const QCommandLineOption runsOpt(
        QStringLiteral("runs"), QStringLiteral("Repetitions."), QStringLiteral("n"), QStringLiteral("20"));
    parser.addOptions({ workersOpt, regionsOpt, runsOpt });
    parser.process(app);
    const int workerCount = parser.value(workersOpt).toInt();
    const int regionCount = parser.value(regionsOpt).toInt();
    const int runs = parser.value(runsOpt).toInt();

    const long rssStart = rssKiB();
    Snapshot snapshot;
    {
        QString error;
        auto scenario = sim::Scenario::load(QStringLiteral("upstream-packet-loss"));
        sim::SimulationOptions options;
        options.workers = workerCount;
        sim::Simulation simulation(std::move(*scenario), options);
        simulation.advance(600);
        WireDecoder decoder;
        snapshot = decoder.snapshot(simulation.snapshotJson(), QStringLiteral("bench")).take();
    }
    const long rssSnapshot = rssKiB();

    FleetStore store(nullptr, 86400);
    ResettableWorkerModel model(&store);
    WorkerFilterModel proxy; // as the worker table uses it: sorted, filtered on a slow timer
    proxy.setSourceModel(&model);
    store.applySnapshot(snapshot);
    proxy.sort(WorkerModel::IdColumn);
    const int n = int(store.workers().size());
    std::printf("bench_models: %d workers in the store\n\n== One tick: 1%% of the workers changed ==\n", n);

    QRandomGenerator rng(7);
    double bestTick = 1e300, bestReset = 1e300;
    int blocks = 0;
    QObject::connect(&model, &QAbstractItemModel::dataChanged, &model, [&blocks] { ++blocks; });
    for (int run = 0; run < runs; ++run) {
        // Prepare the events outside the timing: what the stream would have delivered in one second.
        std::vector<FleetEvent> events;
        for (int i = 0; i < n / 100; ++i) {
            Worker w = store.workers()[std::size_t(rng.bounded(n))];
            w.state = w.state == WorkerState::Busy ? WorkerState::Idle : WorkerState::Busy;
            w.currentBuild = w.state == WorkerState::Busy ? QStringLiteral("b-%1").arg(run * 100000 + i) : QString();
            FleetEvent e;
            e.id = store.sequence() + 1 + i;
            e.type = QStringLiteral("worker");
            e.payload = std::move(w);
            events.push_back(std::move(e));
        }
        blocks = 0;
        QElapsedTimer t;
        t.start();
        for (const FleetEvent &e : events)
            store.applyEvent(e);
        store.flush();
        bestTick = std::min(bestTick, double(t.nsecsElapsed()) / 1e6);

        t.restart();
        model.reset(); // what a model without in-place updates does on every tick
        (void)proxy.index(proxy.rowCount() - 1, 0).data(); // ...and the view asking for rows again
        bestReset = std::min(bestReset, double(t.nsecsElapsed()) / 1e6);
    }
    std::printf("apply %d worker events + one flush (dataChanged in %d blocks): %8.3f ms (target < 2 ms)\n", n / 100,
        blocks, bestTick);
    std::printf(
        "full model reset of the same model, proxy attached:            %8.3f ms  = %.0fx the tick (target >= 20x)\n",
        bestReset, bestReset / bestTick);

    double bestRefresh = 1e300;
    proxy.sort(WorkerModel::StateColumn);
    for (int run = 0; run < 5; ++run) {
        QElapsedTimer t;
        t.start();
        proxy.refreshNow();
        (void)proxy.index(proxy.rowCount() - 1, 0).data(); // the proxy rebuilds its mapping lazily: make it
        bestRefresh = std::min(bestRefresh, double(t.nsecsElapsed()) / 1e6);
    }
    std::printf("slow-timer refresh of the proxy sorted by a live column (at most every 2 s): %8.3f ms\n", bestRefresh);

    std::printf("\n== M4: 86,400 one-second points to 1,920 pixel columns ==\n");
    std::vector<float> day(86400);
    for (std::size_t i = 0; i < day.size(); ++i)
        day[i] = float(std::sin(double(i) / 500.0) + rng.generateDouble() * 0.1);
    double bestM4 = 1e300;
    std::size_t points = 0;
    for (int run = 0; run < runs * 5; ++run) {
        QElapsedTimer t;
        t.start();
        const auto reduced = reduceM4(day.data(), int(day.size()), 0, 1, 1920);
        bestM4 = std::min(bestM4, double(t.nsecsElapsed()) / 1e6);
        points = reduced.size();
    }
    std::printf("reduceM4: %8.3f ms, %zu points out (target < 1 ms)\n", bestM4, points);

    // The first sample of every region, as a console's first health events are: it allocated and filled a day of
    // buffers per region on the GUI thread before the history was kept in blocks (issue #22, item 7).
    double bestFirst = 1e300;
    std::size_t firstBytes = 0;
    for (int run = 0; run < runs; ++run) {
        HealthTimeline fresh(86400);
        HealthSample first;
        first.samples = 1;
        first.time = snapshot.time;
        QElapsedTimer t;
        t.start();
        for (int r = 0; r < regionCount; ++r)
            fresh.record(QStringLiteral("region-%1").arg(r), first);
        bestFirst = std::min(bestFirst, double(t.nsecsElapsed()) / 1e6);
        firstBytes = fresh.memoryBytes();
    }
    std::printf("first health sample of %d regions: %8.3f ms, %.2f MB of history buffers allocated\n", regionCount,
        bestFirst, firstBytes / 1048576.0);

    std::printf("\n== Memory: %d workers + 24 h of one-second history for %d regions ==\n", n, regionCount);
    const qint64 end = snapshot.time / 1000;
    HealthSample s;
    s.samples = 1;
    for (int r = 0; r < regionCount; ++r) {
        const QString region = QStringLiteral("region-%1").arg(r);
        for (qint64 t = end - 86399; t <= end; ++t) {
            s.time = t * 1000;
            s.packetLoss = 0.01;
            s.rttP95Ms = 40;
            store.history().record(region, s);
        }
    }
    const long rssEnd = rssKiB();
    std::printf("history buffers: %.1f MB (%d regions x %d metrics x 86,400 s x 4 bytes)\n",
        store.history().memoryBytes() / 1048576.0, regionCount, int(HealthTimeline::MetricCount));
    std::printf("process RSS: %.1f MB at start, %.1f MB with the decoded snapshot, %.1f MB with store, models and "
                "history (target < 300 MB)\n",
        rssStart / 1024.0, rssSnapshot / 1024.0, rssEnd / 1024.0);
    return 0;
}
