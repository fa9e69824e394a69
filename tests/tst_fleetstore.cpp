// FleetStore and its models, fed by a real simulation through the real wire format and decoders.

#include "activitymodels.h"
#include "fleetconnection.h"
#include "fleetstore.h"
#include "historyloader.h"
#include "historysource.h"
#include "regionmodel.h"
#include "simharness.h"
#include "wiredecode.h"
#include "workermodel.h"

#include <QAbstractItemModelTester>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include <cmath>

using namespace fleet;

namespace {

// A viewer's connection settings for the embedded fleet-sim.
ClientConfig viewerOf(SimHarness &harness)
{
    ClientConfig config;
    config.baseUrl = harness.baseUrl();
    config.token = QStringLiteral("view-secret");
    return config;
}

// Feeds a store from a simulation exactly as a client would see it: snapshot JSON and event JSON, decoded.
class Feeder
{
public:
    Feeder(sim::Simulation &sim, FleetStore &store)
        : m_sim(sim)
        , m_store(store)
    {
    }

    void snapshot()
    {
        auto decoded = m_decoder.snapshot(m_sim.snapshotJson(), QStringLiteral("snapshot"));
        QVERIFY2(decoded.ok(), qPrintable(decoded.error()));
        m_store.applySnapshot(decoded.value());
        m_fed = decoded.value().sequence;
    }

    // Applies the events since the last call; with `dropShare` > 0, loses some, as a broken stream would.
    void events(double dropShare = 0)
    {
        const auto &log = m_sim.events();
        for (auto it = log.after(m_fed); it != log.end(); ++it) {
            if (dropShare > 0 && m_rng.generateDouble() < dropShare)
                continue;
            auto decoded = m_decoder.event(it->id, QString::fromLatin1(it->type), it->data);
            QVERIFY2(decoded.ok(), qPrintable(decoded.error()));
            m_store.applyEvent(decoded.value());
        }
        m_fed = log.lastId();
    }

private:
    sim::Simulation &m_sim;
    FleetStore &m_store;
    WireDecoder m_decoder;
    qint64 m_fed = 0;
    QRandomGenerator m_rng { 99 };
};

std::unique_ptr<sim::Simulation> makeSim(int workers = 0)
{
    QString error;
    auto scenario = sim::Scenario::load(QStringLiteral("upstream-packet-loss"));
    sim::SimulationOptions options;
    options.seed = 11;
    options.workers = workers;
    return std::make_unique<sim::Simulation>(std::move(*scenario), options);
}

sim::ActionRequest request(const QString &key)
{
    sim::ActionRequest r;
    r.actor = QStringLiteral("alice");
    r.reason = QStringLiteral("test");
    r.idempotencyKey = key;
    return r;
}

// Worker events come with every change of state, build or operation. A worker's telemetry (last heartbeat, RTT,
// packet loss, recent failures) is refreshed silently by heartbeats between events (docs/fleet-api.md): the store
// has it exactly as of each worker's last event, and exactly after every snapshot.
bool sameWorkerState(const Worker &a, const Worker &b)
{
    return a.id == b.id && a.name == b.name && a.region == b.region && a.arch == b.arch && a.state == b.state
        && a.version == b.version && a.startedAt == b.startedAt && a.currentBuild == b.currentBuild
        && a.offlineReason == b.offlineReason && a.operation == b.operation;
}

// The store must hold what a fresh snapshot of the server says.
void compareWithServer(const FleetStore &store, sim::Simulation &sim, bool exact = false)
{
    WireDecoder decoder;
    const auto truth = decoder.snapshot(sim.snapshotJson(), QStringLiteral("truth"));
    QVERIFY(truth.ok());
    QCOMPARE(store.workers().size(), truth.value().workers.size());
    for (const Worker &w : truth.value().workers) {
        const int row = store.workerRow(w.id);
        QVERIFY2(row >= 0, qPrintable(w.id));
        const Worker &mine = store.workers()[std::size_t(row)];
        QVERIFY2(exact ? sameWorker(mine, w) : sameWorkerState(mine, w), qPrintable(w.id));
    }
    QCOMPARE(store.regions().size(), truth.value().regions.size());
    for (std::size_t r = 0; r < store.regions().size(); ++r) {
        QCOMPARE(store.regions()[r].id, truth.value().regions[r].id);
        QCOMPARE(store.regions()[r].workersByState, truth.value().regions[r].workersByState);
        QCOMPARE(store.regions()[r].dispatchState, truth.value().regions[r].dispatchState);
    }
    for (const Operation &op : truth.value().operations) {
        const int row = store.operationRow(op.id);
        QVERIFY(row >= 0);
        QCOMPARE(store.operations()[std::size_t(row)].state, op.state);
        QCOMPARE(store.operations()[std::size_t(row)].progressDone, op.progressDone);
    }
}

} // namespace

class TestFleetStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void convergesUnderModelTesters();
    void changesAreCoalescedIntoBlocks();
    void entityTableProtocol();
    void entityRowsKeepRowsIndexAndSignalsTogether();
    void regionVerdictsFollowTheIncident();
    void workerFilterAndSort();
    void auditIsBounded();
    void finishedActivityLeavesByCountAndAge();
    void liveOverTheNetwork();
    void historyBackfilledOnConnect();
    void historyComesFromAnySource();
    void historyStartsWithTheRegionsPreview();
    void unusableFiguresAreNamed();
    void quietWorkersFiguresAge();
};

void TestFleetStore::convergesUnderModelTesters()
{
    auto sim = makeSim();
    sim->advance(600);
    FleetStore store(nullptr, 3600, 500);
    WorkerModel workers(&store);
    WorkerFilterModel filtered;
    filtered.setSourceModel(&workers);
    filtered.setRegion(QStringLiteral("eu-central"));
    filtered.sort(WorkerModel::IdColumn);
    RegionModel regions(&store);
    OperationModel operations(&store);
    AuditModel audit(&store);
    // Every model is checked on every change from here on.
    QAbstractItemModelTester t1(&workers, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&filtered, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t3(&regions, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t4(&operations, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t5(&audit, QAbstractItemModelTester::FailureReportingMode::QtTest);

    Feeder feed(*sim, store);
    feed.snapshot();
    QCOMPARE(workers.rowCount(), sim->workerCount());
    QCOMPARE(regions.rowCount(), sim->regionCount());

    QRandomGenerator rng(5);
    int resyncs = 0;
    for (int round = 0; round < 40; ++round) {
        sim->advance(1 + int(rng.bounded(60)));
        switch (rng.bounded(6)) {
        case 0:
            sim->provision(int(rng.bounded(sim->regionCount())), 1 + int(rng.bounded(5)), Arch::Amd64,
                request(QStringLiteral("p%1").arg(round)));
            break;
        case 1:
            sim->drainRegion(int(rng.bounded(sim->regionCount())), request(QStringLiteral("d%1").arg(round)));
            break;
        case 2:
            for (int r = 0; r < sim->regionCount(); ++r) {
                if (sim->region(r).dispatchState != DispatchState::Active)
                    sim->resumeRegion(r, request(QStringLiteral("r%1-%2").arg(round).arg(r)));
            }
            break;
        default:
            break;
        }
        if (round % 7 == 6) {
            feed.events(0.3); // the stream lost events...
            feed.snapshot(); // ...and the client resynchronised
            ++resyncs;
        } else {
            feed.events();
        }
        store.flush();
        if (QTest::currentTestFailed())
            return;
    }
    QVERIFY(resyncs >= 5);
    compareWithServer(store, *sim);
    feed.snapshot();
    compareWithServer(store, *sim, true); // and to the last field after a resync
    QCOMPARE(store.sequence(), sim->events().lastId());
    QCOMPARE(workers.rowCount(), sim->workerCount());
    QVERIFY(operations.rowCount() > 0);
    QVERIFY(audit.rowCount() > 0);
    // The filter shows exactly the region's workers after its refresh.
    filtered.refreshNow();
    int expected = 0;
    for (const Worker &w : store.workers())
        expected += w.region == QLatin1String("eu-central");
    QCOMPARE(filtered.rowCount(), expected);
    // Forgetting everything (the console switches to another fleet) keeps every model consistent and empty, and
    // the next snapshot loads as a first load.
    store.clear();
    QCOMPARE(workers.rowCount(), 0);
    QCOMPARE(filtered.rowCount(), 0);
    QCOMPARE(regions.rowCount(), 0);
    QCOMPARE(operations.rowCount(), 0);
    QCOMPARE(audit.rowCount(), 0);
    QCOMPARE(store.history().latestSecond(), 0);
    QVERIFY(!store.isLoaded());
    feed.snapshot();
    QCOMPARE(workers.rowCount(), sim->workerCount());
    compareWithServer(store, *sim, true);
}

void TestFleetStore::changesAreCoalescedIntoBlocks()
{
    auto sim = makeSim(5000);
    FleetStore store;
    WorkerModel model(&store);
    Feeder feed(*sim, store);
    feed.snapshot();
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changes(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy coalesced(store.workerTable(), &EntityTable::changed);
    sim->advance(5);
    feed.events();
    QCOMPARE(changes.count(), 0); // nothing until the frame ends
    store.flush();
    QCOMPARE(coalesced.count(), 1);
    const auto ranges = coalesced.first().first().value<FleetStore::Ranges>();
    QVERIFY(!ranges.empty());
    QCOMPARE(changes.count(), int(ranges.size())); // one dataChanged per contiguous block
    for (std::size_t i = 1; i < ranges.size(); ++i)
        QVERIFY(ranges[i].first > ranges[i - 1].second + 1); // blocks really are separate
    QCOMPARE(resets.count(), 0); // no reset after the first load
    // A resync converges in place: no reset either.
    sim->advance(30);
    feed.snapshot();
    QCOMPARE(resets.count(), 0);
    // The frame timer flushes by itself.
    sim->advance(2);
    feed.events();
    QTRY_VERIFY(changes.count() > int(ranges.size()));
}

void TestFleetStore::regionVerdictsFollowTheIncident()
{
    auto sim = makeSim();
    FleetStore store;
    RegionModel regions(&store);
    QAbstractItemModelTester tester(&regions, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Feeder feed(*sim, store);
    feed.snapshot();
    sim->advance(120);
    feed.events();
    store.flush();
    const int eu = store.regionRow(QStringLiteral("eu-central"));
    QCOMPARE(regions.index(eu, 0).data(RegionModel::VerdictRole).toInt(), int(Verdict::Healthy));
    // 10:30: severe packet loss in eu-central only.
    for (int minute = 0; minute < 150; ++minute) {
        sim->advance(60);
        feed.events();
        store.flush();
    }
    QCOMPARE(regions.index(eu, 0).data(RegionModel::VerdictRole).toInt(), int(Verdict::Degraded));
    const QString reason = regions.index(eu, 0).data(RegionModel::VerdictReasonRole).toString();
    QVERIFY2(reason.startsWith(QLatin1String("packet loss ")) && reason.contains(QLatin1String("ETIMEDOUT")),
        qPrintable(reason));
    QVERIFY(regions.index(eu, 0).data(RegionModel::TimeoutsPerMinuteRole).toDouble() > 1);
    QVERIFY(regions.index(eu, 0).data(RegionModel::SuccessRateRole).toDouble() < 0.9);
    QCOMPARE(regions.index(eu, 0).data(RegionModel::SeverityRole).toInt(), 2);
    for (int r = 0; r < regions.rowCount(); ++r) {
        if (r != eu)
            QCOMPARE(regions.index(r, 0).data(RegionModel::VerdictRole).toInt(), int(Verdict::Healthy));
    }
    QCOMPARE(regions.index(eu, RegionModel::VerdictColumn).data().toString(), QStringLiteral("degraded"));
}

void TestFleetStore::workerFilterAndSort()
{
    auto sim = makeSim();
    sim->advance(3 * 3600); // some offline workers in eu-central by now
    FleetStore store;
    WorkerModel workers(&store);
    WorkerFilterModel filtered;
    filtered.setSourceModel(&workers);
    QAbstractItemModelTester tester(&filtered, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Feeder feed(*sim, store);
    feed.snapshot();
    filtered.setState(int(WorkerState::Busy));
    filtered.setArch(int(Arch::Aarch64));
    for (int r = 0; r < filtered.rowCount(); ++r) {
        QCOMPARE(filtered.index(r, 0).data(WorkerModel::StateRole).toInt(), int(WorkerState::Busy));
        QCOMPARE(filtered.index(r, 0).data(WorkerModel::ArchRole).toInt(), int(Arch::Aarch64));
    }
    QVERIFY(filtered.rowCount() > 0);
    filtered.setState(-1);
    filtered.setArch(-1);
    filtered.setText(QStringLiteral("w-00001"));
    QCOMPARE(filtered.rowCount(), 10); // w-000010 .. w-000019
    filtered.setText({});
    filtered.sort(WorkerModel::RttColumn, Qt::DescendingOrder);
    double previous = 1e18;
    for (int r = 0; r < filtered.rowCount(); ++r) {
        const double rtt = filtered.index(r, WorkerModel::RttColumn).data().toDouble();
        QVERIFY(rtt <= previous);
        previous = rtt;
    }
    QCOMPARE(filtered.index(0, WorkerModel::RegionColumn).data().toString(), QStringLiteral("eu-central"));
    // The proxy compares fields directly (fast); the order must be the one the displayed values give, in every
    // column: strings case-insensitively, numbers as numbers.
    auto displayedLess = [](const QVariant &x, const QVariant &y) {
        if (x.typeId() == QMetaType::QString)
            return QString::compare(x.toString(), y.toString(), Qt::CaseInsensitive) < 0;
        return QVariant::compare(x, y) == QPartialOrdering::Less;
    };
    for (int column = 0; column < WorkerModel::ColumnCount; ++column) {
        filtered.sort(column, Qt::AscendingOrder);
        for (int r = 1; r < filtered.rowCount(); ++r) {
            const QVariant previous = filtered.index(r - 1, column).data();
            const QVariant current = filtered.index(r, column).data();
            QVERIFY2(!displayedLess(current, previous),
                qPrintable(QStringLiteral("column %1, row %2: %3 after %4")
                               .arg(column)
                               .arg(r)
                               .arg(current.toString(), previous.toString())));
        }
    }
    filtered.sort(WorkerModel::RttColumn, Qt::DescendingOrder);
    // Live changes re-sort on the slow timer, not at once.
    filtered.setRefreshInterval(200);
    sim->advance(30);
    feed.events();
    store.flush();
    QSignalSpy layout(&filtered, &QAbstractItemModel::layoutChanged);
    QSignalSpy reset(&filtered, &QAbstractItemModel::modelReset);
    QCOMPARE(layout.count() + reset.count(), 0);
    QTRY_VERIFY(layout.count() + reset.count() > 0);
}

void TestFleetStore::auditIsBounded()
{
    FleetStore store(nullptr, 3600, 3);
    AuditModel audit(&store);
    QAbstractItemModelTester tester(&audit, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int i = 1; i <= 10; ++i) {
        AuditEntry e;
        e.id = QStringLiteral("au-%1").arg(i);
        e.actor = QStringLiteral("alice");
        FleetEvent ev;
        ev.id = i;
        ev.type = QStringLiteral("audit");
        ev.payload = e;
        store.applyEvent(ev);
    }
    QCOMPARE(audit.rowCount(), 3);
    QCOMPARE(audit.index(0, 0).data(AuditModel::IdRole).toString(), QStringLiteral("au-8"));
    QCOMPARE(audit.index(2, 0).data(AuditModel::IdRole).toString(), QStringLiteral("au-10"));
}

void TestFleetStore::finishedActivityLeavesByCountAndAge()
{
    // Days of running: finished operations and audit entries beyond the limits leave; in-flight ones never do.
    FleetStore store;
    OperationModel operations(&store);
    AuditModel audit(&store);
    QAbstractItemModelTester opTester(&operations, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester auditTester(&audit, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const qint64 hour = 3600 * 1000LL;
    const qint64 now = 1'762'938'780'000;
    Snapshot snap;
    snap.sequence = 1;
    snap.time = now;
    for (int i = 0; i < 12; ++i) {
        Operation op;
        op.id = QStringLiteral("op-%1").arg(i);
        op.createdAt = now - (30 - i) * hour;
        // Every third one is still running; the others finished an hour after they were made.
        op.state = i % 3 == 0 ? OperationState::Running : OperationState::Succeeded;
        op.finishedAt = op.state == OperationState::Running ? 0 : op.createdAt + hour;
        snap.operations.push_back(op);
    }
    store.applySnapshot(snap);
    for (int i = 0; i < 10; ++i) {
        AuditEntry e;
        e.id = QStringLiteral("au-%1").arg(i);
        e.time = now - (28 - 3 * i) * hour; // au-0..au-1 are older than a day
        FleetEvent ev;
        ev.id = 2 + i;
        ev.type = QStringLiteral("audit");
        ev.payload = e;
        store.applyEvent(ev);
    }
    RetentionLimits limits;
    limits.finishedOperations = 3;
    limits.finishedOperationAgeMs = 24 * hour;
    limits.auditEntries = 6;
    limits.auditAgeMs = 24 * hour;
    store.setRetention(limits);

    // Running: op-0, 3, 6, 9 (kept whatever their age). Finished more than a day ago: op-1, 2, 4. Of the finished
    // rest (5, 7, 8, 10, 11), the count keeps the newest three.
    QStringList kept;
    for (const Operation &op : store.operations())
        kept << op.id;
    QCOMPARE(kept,
        QStringList({ QStringLiteral("op-0"), QStringLiteral("op-3"), QStringLiteral("op-6"), QStringLiteral("op-8"),
            QStringLiteral("op-9"), QStringLiteral("op-10"), QStringLiteral("op-11") }));
    QCOMPARE(operations.rowCount(), 7);
    for (int row = 0; row < int(store.operations().size()); ++row)
        QCOMPARE(store.operationRow(store.operations()[std::size_t(row)].id), row);
    // Audit: the two older than a day leave, then the count keeps the newest six.
    QCOMPARE(audit.rowCount(), 6);
    QCOMPARE(audit.index(0, 0).data(AuditModel::IdRole).toString(), QStringLiteral("au-4"));
    QCOMPARE(audit.index(5, 0).data(AuditModel::IdRole).toString(), QStringLiteral("au-9"));
}

void TestFleetStore::liveOverTheNetwork()
{
    SimHarness harness;
    FleetConnection connection(viewerOf(harness));
    FleetStore store;
    store.attach(&connection);
    WorkerModel workers(&store);
    RegionModel regions(&store);
    QAbstractItemModelTester t1(&workers, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&regions, QAbstractItemModelTester::FailureReportingMode::QtTest);
    connection.start();
    QTRY_COMPARE(connection.status().state, ConnectionState::Live);
    for (int i = 0; i < 5; ++i) {
        harness.admin(QStringLiteral("/v1/sim/advance"), R"({"seconds":20})");
        harness.post(QStringLiteral("/v1/regions/us-west/provision"), R"({"count":2,"arch":"amd64","reason":"test"})",
            "op-secret", { { "Idempotency-Key", QByteArray::number(i) } });
    }
    harness.server().flushStreams();
    QTRY_COMPARE(store.sequence(), harness.sim().events().lastId());
    store.flush();
    compareWithServer(store, harness.sim());
    QVERIFY(store.history().latestSecond() > 0);
    QCOMPARE(regions.index(0, 0).data(RegionModel::VerdictRole).toInt(), int(Verdict::Healthy));
}

void TestFleetStore::historyBackfilledOnConnect()
{
    SimHarness harness;
    harness.sim().advance(4 * 3600); // the console opens at 12:00, mid-incident
    FleetConnection connection(viewerOf(harness));
    FleetStore store;
    store.attach(&connection);
    HistoryLoader loader(&store, std::make_unique<FleetApiHistory>(connection.client()), 3);
    RegionModel regions(&store);
    QSignalSpy done(&loader, &HistoryLoader::finished);
    connection.start();
    QVERIFY(done.wait(30000));
    QCOMPARE(loader.failures(), 0);
    const HealthTimeline &h = store.history();
    const int eu = h.regionIndex(QStringLiteral("eu-central"));
    const qint64 now = harness.sim().now() / 1000;
    // Three hours back, at one-second resolution, without waiting for live data.
    QVERIFY(!std::isnan(h.value(eu, HealthTimeline::PacketLoss, now - 3 * 3600 + 10)));
    QVERIFY(!std::isnan(h.value(eu, HealthTimeline::PacketLoss, now - 1)));
    QVERIFY(h.value(eu, HealthTimeline::PacketLoss, now - 60) > 0.2f); // the incident is in it
    QVERIFY(h.value(eu, HealthTimeline::PacketLoss, now - 3 * 3600 + 10) < 0.1f); // and the calm before
    // Before the simulation began the server had no data: those seconds stay gaps.
    QVERIFY(std::isnan(h.value(eu, HealthTimeline::PacketLoss, harness.sim().scenario().start / 1000 - 5)));
    // The verdict is judged at once from the backfilled minute.
    const int row = store.regionRow(QStringLiteral("eu-central"));
    QTRY_COMPARE(regions.index(row, 0).data(RegionModel::VerdictRole).toInt(), int(Verdict::Degraded));
}

// The loader asks a HistorySource (issue #22, item 1): chunks as large as the source accepts, every region, newest
// first, failures counted. A source of the test's own (a fake is fine for one class); the Fleet API's is above.
namespace {
class CountingSource : public HistorySource
{
public:
    QString name() const override { return QStringLiteral("counting"); }
    int maxPointsPerRequest() const override { return 3600; }
    void fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds, QObject *context,
        std::function<void(ApiResult<HealthHistory>)> done) override
    {
        asked.append({ region, fromSecond, toSecond });
        QVERIFY(stepSeconds == 1);
        QVERIFY(toSecond - fromSecond <= maxPointsPerRequest());
        QMetaObject::invokeMethod(
            context,
            [region, fromSecond, done = std::move(done)] {
                if (region == QLatin1String("eu-west")) {
                    ApiError error;
                    error.kind = ApiError::Kind::Http;
                    error.httpStatus = 503;
                    error.message = QStringLiteral("unavailable");
                    done(ApiResult<HealthHistory>::failure(error));
                    return;
                }
                HealthHistory h;
                HealthSample sample;
                sample.time = (fromSecond + 1) * 1000;
                sample.samples = 1;
                sample.packetLoss = 0.25;
                h.buckets.push_back(sample);
                done(ApiResult<HealthHistory>::success(h));
            },
            Qt::QueuedConnection);
    }
    struct Asked
    {
        QString region;
        qint64 from;
        qint64 to;
    };
    QList<Asked> asked;
};
} // namespace

void TestFleetStore::historyComesFromAnySource()
{
    SimHarness harness;
    FleetConnection connection(viewerOf(harness));
    FleetStore store;
    store.attach(&connection);
    auto owned = std::make_unique<CountingSource>();
    CountingSource *source = owned.get();
    HistoryLoader loader(&store, std::move(owned), 2);
    QCOMPARE(loader.source()->name(), QStringLiteral("counting"));
    QSignalSpy done(&loader, &HistoryLoader::finished);
    connection.start();
    QVERIFY(done.wait(30000));
    const int regions = int(store.regions().size());
    QVERIFY(regions > 1);
    QCOMPARE(int(source->asked.size()), 2 * regions); // two hours in 3,600-point chunks, per region
    QVERIFY(source->asked.first().to > source->asked.last().to); // newest first
    QCOMPARE(loader.failures(), 2); // eu-west's two chunks
    const int eu = store.history().regionIndex(QStringLiteral("eu-central"));
    const qint64 firstFrom = source->asked.first().from;
    QCOMPARE(store.history().value(eu, HealthTimeline::PacketLoss, firstFrom + 1), 0.25f);
}

// Issue #20: a region whose count the server sent as -1 is kept; the model names what was wrong for its tile.
void TestFleetStore::unusableFiguresAreNamed()
{
    WireDecoder decoder;
    const auto decoded = decoder.snapshot(
        R"({"sequence":1,"time":"2025-11-12T09:00:00Z","regions":[{"id":"eu-west","name":"EU West",)"
        R"("provider":"x","location":"y","dispatch_state":"active","dispatch_changed_by":null,)"
        R"("dispatch_reason":null,"capacity":{"max_workers":-1,"max_provision_per_request":10},)"
        R"("workers_by_state":{"provisioning":0,"idle":3,"busy":1,"draining":0,"offline":0,"terminated":0},)"
        R"("network":{"packet_loss":0.01,"rtt_ms_p50":20,"rtt_ms_p95":40}}],"workers":[],"operations":[]})",
        QStringLiteral("GET /v1/fleet/snapshot"));
    QVERIFY2(decoded.ok(), qPrintable(decoded.error()));
    FleetStore store;
    RegionModel regions(&store);
    QAbstractItemModelTester tester(&regions, QAbstractItemModelTester::FailureReportingMode::QtTest);
    store.applySnapshot(decoded.value());
    QCOMPARE(regions.rowCount(), 1);
    const QString notes = regions.index(0, 0).data(RegionModel::ServerNotesRole).toString();
    QVERIFY2(notes.startsWith(QLatin1String("max_workers: -1 is not a count")), qPrintable(notes));
    QCOMPARE(regions.index(0, 0).data(RegionModel::IdleWorkersRole).toInt(), 3);
}

// Issue #21, item 9: a worker whose state does not change keeps the figures of its last event; the model says how old
// they are on the fleet's clock, so the table can mark them instead of passing them off as current.
void TestFleetStore::quietWorkersFiguresAge()
{
    FleetStore store;
    WorkerModel workers(&store);
    QAbstractItemModelTester tester(&workers, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const qint64 now = 1'762'938'780'000;
    Snapshot snap;
    snap.sequence = 1;
    snap.time = now;
    Worker w;
    w.id = QStringLiteral("w-000001");
    w.region = QStringLiteral("eu-central");
    w.state = WorkerState::Idle;
    w.lastHeartbeatAt = now - 2000;
    snap.workers.push_back(w);
    w.id = QStringLiteral("w-000002");
    w.lastHeartbeatAt = now - 32 * 60 * 1000; // the seed's 08:31 row at 09:03
    snap.workers.push_back(w);
    store.applySnapshot(snap);
    QCOMPARE(workers.rowCount(), 2);
    const qint64 fresh = workers.index(0, 0).data(WorkerModel::TelemetryAgeRole).toLongLong();
    const qint64 old = workers.index(1, 0).data(WorkerModel::TelemetryAgeRole).toLongLong();
    QVERIFY2(fresh >= 0 && fresh <= WorkerModel::kOldTelemetryMs, qPrintable(QString::number(fresh)));
    QVERIFY2(old > WorkerModel::kOldTelemetryMs, qPrintable(QString::number(old)));
    QCOMPARE(old - fresh, 32 * 60 * 1000 - 2000);
}

// One kind's row protocol, alone: marks coalesce into ascending ranges, once each; a removal sends the marks first
// (their rows are about to move); a reset drops them; a model on the table follows it (Qt's model tester watches).
void TestFleetStore::entityTableProtocol()
{
    EntityTable table;
    QSignalSpy changed(&table, &EntityTable::changed);
    QList<QString> order;
    connect(&table, &EntityTable::changed, this, [&] { order << QStringLiteral("changed"); });
    connect(&table, &EntityTable::aboutToBeRemoved, this,
        [&](int f, int l) { order << QStringLiteral("remove %1-%2").arg(f).arg(l); });
    for (int row : { 7, 3, 4, 3, 9, 8, 0 })
        table.mark(row);
    QVERIFY(table.flushChanges());
    QCOMPARE(changed.size(), 1);
    const auto ranges = changed.takeFirst().at(0).value<EntityTable::Ranges>();
    QCOMPARE(ranges, (EntityTable::Ranges { { 0, 0 }, { 3, 4 }, { 7, 9 } }));
    QVERIFY(!table.flushChanges()); // nothing marked: no signal
    table.mark(5);
    table.beginRemove(1, 2);
    table.endRemove();
    QCOMPARE(
        order, (QList<QString> { QStringLiteral("changed"), QStringLiteral("changed"), QStringLiteral("remove 1-2") }));
    table.mark(2);
    table.beginReset();
    table.endReset();
    QVERIFY(!table.flushChanges());

    // A model on a table: a subclass says only what a cell shows.
    struct Rows : EntityTableModel
    {
        explicit Rows(EntityTable *t)
            : EntityTableModel(2)
        {
            follow(t);
        }
        int rowCount(const QModelIndex &parent = {}) const override
        {
            return parent.isValid() ? 0 : int(values.size());
        }
        QVariant data(const QModelIndex &i, int role) const override
        {
            return role == Qt::DisplayRole ? QVariant(values[std::size_t(i.row())] * (i.column() + 1)) : QVariant();
        }
        std::vector<int> values;
    } model(&table);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy dataChanged(&model, &QAbstractItemModel::dataChanged);
    table.beginInsert(0, 2);
    model.values = { 1, 2, 3 };
    table.endInsert();
    QCOMPARE(model.rowCount(), 3);
    model.values[1] = 20;
    table.mark(1);
    table.flushChanges();
    QCOMPARE(dataChanged.size(), 1);
    QCOMPARE(dataChanged.at(0).at(0).toModelIndex(), model.index(1, 0));
    QCOMPARE(dataChanged.at(0).at(1).toModelIndex(), model.index(1, 1)); // every column
    table.beginRemove(0, 0);
    model.values.erase(model.values.begin());
    table.endRemove();
    QCOMPARE(model.index(0, 1).data().toInt(), 40);
}

void TestFleetStore::entityRowsKeepRowsIndexAndSignalsTogether()
{
    struct Item
    {
        QString id;
        int value = 0;
    };
    EntityRows<Item> rows;
    struct Model : EntityTableModel
    {
        explicit Model(EntityRows<Item> *r)
            : EntityTableModel(1)
            , rows(r)
        {
            follow(r);
        }
        int rowCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : rows->size(); }
        QVariant data(const QModelIndex &i, int role) const override
        {
            return role == Qt::DisplayRole ? QVariant(rows->rows()[std::size_t(i.row())].value) : QVariant();
        }
        EntityRows<Item> *rows;
    } model(&rows);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QList<QString> removals;
    connect(&rows, &EntityTable::aboutToBeRemoved, this,
        [&](int f, int l) { removals << QStringLiteral("%1-%2").arg(f).arg(l); });
    QSignalSpy changed(&rows, &EntityTable::changed);
    const auto same = [](const Item &a, const Item &b) { return a.value == b.value; };

    rows.reset({ { QStringLiteral("a"), 1 }, { QStringLiteral("b"), 2 } });
    QCOMPARE(rows.rowOf(QStringLiteral("b")), 1);
    QCOMPARE(rows.upsert({ QStringLiteral("b"), 2 }, same), 1);
    QVERIFY(!rows.flushChanges()); // the same value: nothing to say
    rows.upsert({ QStringLiteral("b"), 3 }, same);
    QVERIFY(rows.flushChanges());
    QCOMPARE(changed.takeLast().at(0).value<EntityTable::Ranges>(), (EntityTable::Ranges { { 1, 1 } }));
    QCOMPARE(rows.upsert({ QStringLiteral("c"), 4 }, same), 2); // new: appended
    QCOMPARE(model.rowCount(), 3);

    // Many edits against a plain list: the index always says where each row is, and removals go bottom up.
    std::vector<Item> expected = rows.rows();
    QRandomGenerator rng(11);
    int next = 0;
    for (int round = 0; round < 300; ++round) {
        switch (rng.bounded(4)) {
        case 0: {
            std::vector<Item> fresh;
            for (int i = int(rng.bounded(4)); i >= 0; --i)
                fresh.push_back({ QStringLiteral("n%1").arg(next++), int(rng.bounded(100)) });
            expected.insert(expected.end(), fresh.begin(), fresh.end());
            rows.append(std::move(fresh));
            break;
        }
        case 1:
            if (!expected.empty()) {
                Item &pick = expected[rng.bounded(quint32(expected.size()))];
                pick.value = int(rng.bounded(100));
                rows.upsert(pick, same);
            }
            break;
        case 2: {
            const int modulo = 2 + int(rng.bounded(3));
            removals.clear();
            const int removed = rows.removeIf([modulo](int row) { return row % modulo == 0; });
            int gone = 0;
            for (int i = int(expected.size()) - 1; i >= 0; --i) {
                if (i % modulo == 0) {
                    expected.erase(expected.begin() + i);
                    ++gone;
                }
            }
            QCOMPARE(removed, gone);
            for (qsizetype i = 1; i < removals.size(); ++i) // from the bottom up
                QVERIFY(removals[i].section(u'-', 1).toInt() < removals[i - 1].section(u'-', 0, 0).toInt());
            break;
        }
        default:
            rows.flushChanges();
        }
        QCOMPARE(rows.size(), int(expected.size()));
        for (std::size_t i = 0; i < expected.size(); ++i) {
            QCOMPARE(rows.rows()[i].id, expected[i].id);
            QCOMPARE(rows.rows()[i].value, expected[i].value);
            QCOMPARE(rows.rowOf(expected[i].id), int(i));
        }
    }
    rows.reset({});
    QCOMPARE(rows.rowOf(QStringLiteral("a")), -1);
    QCOMPARE(model.rowCount(), 0);
}

QTEST_GUILESS_MAIN(TestFleetStore)
// The regions come before the first snapshot (FleetConnection::regionsPreviewed, issue #25): the history of the charts
// is asked for from then on, and the snapshot afterwards asks only for what passed in between.
void TestFleetStore::historyStartsWithTheRegionsPreview()
{
    FleetStore store;
    auto owned = std::make_unique<CountingSource>();
    CountingSource *source = owned.get();
    HistoryLoader loader(&store, std::move(owned), 2);
    QSignalSpy preview(&store, &FleetStore::regionsPreviewApplied);
    std::vector<Region> regions(2);
    regions[0].id = QStringLiteral("eu-central");
    regions[1].id = QStringLiteral("us-east");
    const qint64 now = 1'762'934'400'000; // 2025-11-12 08:00 UTC
    store.applyRegionsPreview(regions, now);
    QCOMPARE(preview.size(), 1);
    QVERIFY(!store.isLoaded());
    QCOMPARE(int(store.regions().size()), 2);
    QVERIFY2(!source->asked.isEmpty(), "the history was not asked for at the preview");
    QCOMPARE(source->asked.first().to, now / 1000 + 1); // from the server's now, newest first
    QTRY_VERIFY(loader.isIdle());
    const int askedAtPreview = int(source->asked.size());
    QCOMPARE(askedAtPreview, 2 * 2); // two hours in 3,600-point chunks, per region

    Snapshot snapshot;
    snapshot.time = now + 10'000; // ten seconds later
    snapshot.regions = regions;
    store.applySnapshot(snapshot);
    QVERIFY(store.isLoaded());
    QTRY_VERIFY(loader.isIdle());
    QCOMPARE(int(source->asked.size()), askedAtPreview + 2); // the ten seconds in between, per region
    QCOMPARE(source->asked.last().to - source->asked.last().from, 10);
    // Once loaded, a preview changes nothing.
    store.applyRegionsPreview({ regions[0] }, now);
    QCOMPARE(preview.size(), 1);
    QCOMPARE(int(store.regions().size()), 2);
}

#include "tst_fleetstore.moc"
