#include "jsonwriter.h"
#include "simulation.h"
#include "wireencode.h"

#include <QTest>

using namespace fleet;
using namespace fleet::sim;

namespace {

std::unique_ptr<Simulation> makeSim(
    const QString &scenario = QStringLiteral("upstream-packet-loss"), quint64 seed = 7, int historySeconds = 86400)
{
    QString error;
    auto s = Scenario::load(scenario);
    if (!s)
        qFatal("%s", qPrintable(s.error()));
    SimulationOptions options;
    options.seed = seed;
    options.historySeconds = historySeconds;
    return std::make_unique<Simulation>(std::move(*s), options);
}

QByteArray fleetState(const Simulation &sim)
{
    QByteArray out;
    JsonWriter w(&out);
    w.beginArray();
    for (int i = 0; i < sim.workerCount(); ++i)
        writeWorker(w, sim.worker(i));
    for (int r = 0; r < sim.regionCount(); ++r)
        writeRegion(w, sim.region(r));
    w.endArray();
    return out;
}

// ETIMEDOUT failures in a region over [from, to).
int timeouts(const Simulation &sim, int region, qint64 from, qint64 to)
{
    int n = 0;
    for (const auto &b : sim.health(region, from, to, 600))
        n += b.failures[int(FailureReason::ETimedOut)];
    return n;
}

ActionRequest request(const QString &key, const QString &reason = QStringLiteral("test"))
{
    ActionRequest r;
    r.actor = QStringLiteral("alice");
    r.idempotencyKey = key;
    r.reason = reason;
    return r;
}

constexpr qint64 kHour = 3600 * 1000;

} // namespace

class TestSimulation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void deterministicUnderSeed();
    void incidentRaisesTimeoutsInAffectedRegionOnly();
    void countsMatchWorkerStates();
    void provisionLifecycle();
    void provisionValidation();
    void idempotencyReplaysAndRejectsReuse();
    void drainAndResumeRegion();
    void drainRegionDryRunChangesNothing();
    void drainWorkerFinishesBuildFirst();
    void cancelProvision();
    void provisionExpiry();
    void healthGapsBeforeStartAndAfterWrap();
    void scalesToRequestedWorkers();
};

void TestSimulation::deterministicUnderSeed()
{
    auto a = makeSim();
    auto b = makeSim();
    auto c = makeSim(QStringLiteral("upstream-packet-loss"), 8);
    QCOMPARE(fleetState(*a), fleetState(*b));
    a->advance(900);
    b->advance(900);
    c->advance(900);
    QCOMPARE(fleetState(*a), fleetState(*b));
    QCOMPARE(a->events().lastId(), b->events().lastId());
    QVERIFY(fleetState(*a) != fleetState(*c));
    // Actions at the same simulated time keep runs identical.
    QCOMPARE(a->provision(1, 3, Arch::Amd64, request(QStringLiteral("k"))).outcome, ActionResult::Outcome::Created);
    QCOMPARE(b->provision(1, 3, Arch::Amd64, request(QStringLiteral("k"))).outcome, ActionResult::Outcome::Created);
    a->advance(300);
    b->advance(300);
    QCOMPARE(fleetState(*a), fleetState(*b));
}

void TestSimulation::incidentRaisesTimeoutsInAffectedRegionOnly()
{
    auto sim = makeSim();
    const qint64 start = sim->scenario().start;
    sim->advance(int(11 * 3600)); // 08:00 -> 19:00
    const int affected = sim->regionIndex(u"eu-central");
    QVERIFY(affected >= 0);
    const qint64 calmFrom = start, calmTo = start + 50 * 60 * 1000; // 08:00-08:50
    const qint64 peakFrom = start + 3 * kHour, peakTo = start + 5 * kHour; // 11:00-13:00
    const qint64 afterFrom = start + 10 * kHour, afterTo = start + 11 * kHour; // 18:00-19:00
    const int calm = timeouts(*sim, affected, calmFrom, calmTo);
    const int peak = timeouts(*sim, affected, peakFrom, peakTo);
    const int after = timeouts(*sim, affected, afterFrom, afterTo);
    qInfo() << "eu-central ETIMEDOUT: calm" << calm << "peak" << peak << "after recovery" << after;
    QVERIFY2(peak > 100, "severe packet loss must make ETIMEDOUT failures climb");
    QVERIFY(peak > 10 * std::max(calm, 1));
    QVERIFY2(after * 10 < peak, "after the upstream fix the failures must fall back");
    for (int r = 0; r < sim->regionCount(); ++r) {
        if (r == affected)
            continue;
        const int other = timeouts(*sim, r, peakFrom, peakTo);
        QVERIFY2(other * 10 < peak,
            qPrintable(QStringLiteral("%1 has %2 timeouts at the peak").arg(sim->region(r).id).arg(other)));
    }
    // Connections to the affected region's workers degrade: some miss enough heartbeats to be offline at the peak.
    const auto peakSample = sim->health(affected, start + 4 * kHour, start + 4 * kHour + 1000, 1);
    QVERIFY(peakSample.front().packetLoss > 0.2);
    QVERIFY(peakSample.front().rttP95Ms > 200);
}

void TestSimulation::countsMatchWorkerStates()
{
    auto sim = makeSim();
    sim->advance(3600);
    sim->provision(2, 5, Arch::Aarch64, request(QStringLiteral("p")));
    sim->drainRegion(3, request(QStringLiteral("d")));
    sim->advance(120);
    for (int r = 0; r < sim->regionCount(); ++r) {
        WorkerCounts counted {};
        for (int i = 0; i < sim->workerCount(); ++i) {
            if (sim->worker(i).region == sim->region(r).id)
                counted[int(sim->worker(i).state)]++;
        }
        QCOMPARE(counted, sim->region(r).workersByState);
    }
}

void TestSimulation::provisionLifecycle()
{
    auto sim = makeSim();
    const int region = sim->regionIndex(u"eu-west");
    const int before = sim->workerCount();
    const ActionResult r
        = sim->provision(region, 10, Arch::Amd64, request(QStringLiteral("p1"), QStringLiteral("replace eu-central")));
    QCOMPARE(r.outcome, ActionResult::Outcome::Created);
    const Operation &op = sim->operations()[r.operation];
    QCOMPARE(op.state, OperationState::Running);
    QCOMPARE(op.progressTotal, 10);
    QCOMPARE(op.requestedBy, QStringLiteral("alice"));
    QCOMPARE(sim->workerCount(), before + 10);
    QCOMPARE(sim->region(region).workersByState[int(WorkerState::Provisioning)], 10);
    QCOMPARE(sim->worker(before).operation, op.id);
    sim->advance(600);
    QCOMPARE(sim->operations()[r.operation].state, OperationState::Succeeded);
    QCOMPARE(sim->operations()[r.operation].progressDone, 10);
    QCOMPARE(sim->region(region).workersByState[int(WorkerState::Provisioning)], 0);
    QVERIFY(!sim->audit().empty());
    QCOMPARE(sim->audit().back().result, QStringLiteral("succeeded"));
}

void TestSimulation::provisionValidation()
{
    auto sim = makeSim();
    const int region = sim->regionIndex(u"sa-east");
    const Region &info = sim->region(region);
    ActionResult r = sim->provision(region, 0, Arch::Amd64, request(QStringLiteral("a")));
    QCOMPARE(r.outcome, ActionResult::Outcome::Invalid);
    QCOMPARE(r.field, QStringLiteral("count"));
    const int live = info.workersByState[int(WorkerState::Idle)] + info.workersByState[int(WorkerState::Busy)];
    r = sim->provision(region, info.capacity.maxWorkers - live + 1, Arch::Amd64, request(QStringLiteral("b")));
    QCOMPARE(r.outcome, ActionResult::Outcome::Invalid);
    QVERIFY2(r.detail.contains(QLatin1String("capacity")), qPrintable(r.detail));
    QVERIFY(sim->operations().empty());
    r = sim->provision(region, info.capacity.maxWorkers - live, Arch::Amd64, request(QStringLiteral("c")));
    QCOMPARE(r.outcome, ActionResult::Outcome::Created);
}

void TestSimulation::idempotencyReplaysAndRejectsReuse()
{
    auto sim = makeSim();
    const ActionResult first = sim->provision(0, 2, Arch::Amd64, request(QStringLiteral("same")));
    const ActionResult again = sim->provision(0, 2, Arch::Amd64, request(QStringLiteral("same")));
    QCOMPARE(again.outcome, ActionResult::Outcome::Replayed);
    QCOMPARE(again.operation, first.operation);
    QCOMPARE(sim->operations().size(), std::size_t(1));
    const ActionResult different = sim->provision(0, 3, Arch::Amd64, request(QStringLiteral("same")));
    QCOMPARE(different.outcome, ActionResult::Outcome::KeyReused);
    QCOMPARE(sim->operations().size(), std::size_t(1));
    // Keys are per caller: bob's "same" is a different action.
    ActionRequest bob = request(QStringLiteral("same"));
    bob.actor = QStringLiteral("bob");
    QCOMPARE(sim->provision(0, 2, Arch::Amd64, bob).outcome, ActionResult::Outcome::Created);
    QCOMPARE(sim->operations().size(), std::size_t(2));
}

void TestSimulation::drainAndResumeRegion()
{
    auto sim = makeSim();
    sim->advance(1800);
    const int region = sim->regionIndex(u"eu-central");
    const int busy = sim->region(region).workersByState[int(WorkerState::Busy)];
    QVERIFY(busy > 0);
    const ActionResult r = sim->drainRegion(region, request(QStringLiteral("d1"), QStringLiteral("packet loss")));
    QCOMPARE(r.outcome, ActionResult::Outcome::Created);
    QCOMPARE(sim->region(region).dispatchState, DispatchState::Draining);
    QCOMPARE(sim->region(region).dispatchChangedBy, QStringLiteral("alice"));
    QCOMPARE(sim->operations()[r.operation].progressTotal, busy);
    QCOMPARE(sim->drainRegion(region, request(QStringLiteral("d2"))).outcome, ActionResult::Outcome::Conflict);
    const qint64 drainStart = sim->now();
    sim->advance(3 * 3600);
    QCOMPARE(sim->region(region).dispatchState, DispatchState::Drained);
    QCOMPARE(sim->operations()[r.operation].state, OperationState::Succeeded);
    QCOMPARE(sim->region(region).workersByState[int(WorkerState::Busy)], 0);
    // No build started in the region after the drain began (allow the second it was issued in).
    int started = 0;
    for (const auto &b : sim->health(region, drainStart + 1000, sim->now() + 1000, 60))
        started += b.buildsStarted;
    QCOMPARE(started, 0);
    const ActionResult resumed = sim->resumeRegion(region, request(QStringLiteral("r1"), QStringLiteral("fixed")));
    QCOMPARE(resumed.outcome, ActionResult::Outcome::Created);
    QCOMPARE(sim->operations()[resumed.operation].state, OperationState::Succeeded);
    QCOMPARE(sim->region(region).dispatchState, DispatchState::Active);
    QCOMPARE(sim->resumeRegion(region, request(QStringLiteral("r2"))).outcome, ActionResult::Outcome::Conflict);
    sim->advance(600);
    QVERIFY(sim->region(region).workersByState[int(WorkerState::Busy)] > 0);
}

void TestSimulation::drainRegionDryRunChangesNothing()
{
    auto sim = makeSim();
    sim->advance(600);
    const QByteArray before = fleetState(*sim);
    const qint64 events = sim->events().lastId();
    ActionRequest dry = request(QString());
    dry.dryRun = true;
    const ActionResult r = sim->drainRegion(0, dry);
    QCOMPARE(r.outcome, ActionResult::Outcome::DryRun);
    QCOMPARE(r.impact.activeWorkersAfter, 0);
    QCOMPARE(r.impact.runningBuilds, sim->region(0).workersByState[int(WorkerState::Busy)]);
    QVERIFY(!r.impact.notes.isEmpty());
    QCOMPARE(fleetState(*sim), before);
    QCOMPARE(sim->events().lastId(), events);
    QVERIFY(sim->operations().empty());
}

void TestSimulation::drainWorkerFinishesBuildFirst()
{
    auto sim = makeSim();
    sim->advance(600);
    int busy = -1;
    for (int i = 0; i < sim->workerCount() && busy < 0; ++i) {
        if (sim->worker(i).state == WorkerState::Busy)
            busy = i;
    }
    QVERIFY(busy >= 0);
    const ActionResult r = sim->drainWorker(busy, request(QStringLiteral("w1")));
    QCOMPARE(r.outcome, ActionResult::Outcome::Created);
    QCOMPARE(sim->worker(busy).state, WorkerState::Draining);
    QVERIFY(!sim->worker(busy).currentBuild.isEmpty());
    QCOMPARE(sim->drainWorker(busy, request(QStringLiteral("w2"))).outcome, ActionResult::Outcome::Conflict);
    sim->advance(7200);
    QCOMPARE(sim->worker(busy).state, WorkerState::Offline);
    QCOMPARE(sim->worker(busy).offlineReason, QStringLiteral("drained"));
    QCOMPARE(sim->operations()[r.operation].state, OperationState::Succeeded);
}

void TestSimulation::cancelProvision()
{
    auto sim = makeSim();
    const int before = sim->workerCount();
    const ActionResult r = sim->provision(1, 4, Arch::Amd64, request(QStringLiteral("c1")));
    const ActionResult c = sim->cancel(r.operation, request(QStringLiteral("c2"), QStringLiteral("wrong region")));
    QCOMPARE(c.outcome, ActionResult::Outcome::Created);
    QCOMPARE(sim->operations()[r.operation].state, OperationState::Cancelled);
    for (int i = before; i < sim->workerCount(); ++i) {
        QCOMPARE(sim->worker(i).state, WorkerState::Terminated);
        QCOMPARE(sim->worker(i).offlineReason, QStringLiteral("cancelled"));
    }
    QCOMPARE(sim->cancel(r.operation, request(QStringLiteral("c2"), QStringLiteral("wrong region"))).outcome,
        ActionResult::Outcome::Replayed);
    QCOMPARE(sim->cancel(r.operation, request(QStringLiteral("c3"))).outcome, ActionResult::Outcome::Conflict);
    sim->advance(600); // the cancelled workers' ready timers must not revive them
    for (int i = before; i < sim->workerCount(); ++i)
        QCOMPARE(sim->worker(i).state, WorkerState::Terminated);
}

void TestSimulation::provisionExpiry()
{
    auto sim = makeSim();
    ActionRequest req = request(QStringLiteral("e1"));
    req.expiresAt = sim->now() + 1800 * 1000;
    const int before = sim->workerCount();
    const ActionResult r = sim->provision(1, 3, Arch::Amd64, req);
    QCOMPARE(r.outcome, ActionResult::Outcome::Created);
    sim->advance(1700);
    for (int i = before; i < sim->workerCount(); ++i)
        QVERIFY(sim->worker(i).state != WorkerState::Terminated);
    sim->advance(2 * 3600); // past the expiry and any build still running at it
    for (int i = before; i < sim->workerCount(); ++i) {
        QCOMPARE(sim->worker(i).state, WorkerState::Terminated);
        QCOMPARE(sim->worker(i).offlineReason, QStringLiteral("expired"));
    }
}

void TestSimulation::healthGapsBeforeStartAndAfterWrap()
{
    auto sim = makeSim(QStringLiteral("calm"), 1, 120);
    const qint64 start = sim->scenario().start;
    sim->advance(90);
    // Before the simulation started: no data, reported as gaps rather than zeros.
    auto buckets = sim->health(0, start - 60 * 1000, start + 60 * 1000, 10);
    QCOMPARE(buckets.size(), std::size_t(12));
    QCOMPARE(buckets.front().samples, 0);
    QCOMPARE(buckets[5].samples, 0);
    QCOMPARE(buckets[6].samples, 9); // the first second of the run is the end of its first step
    QCOMPARE(buckets.back().samples, 10);
    sim->advance(210);
    // Only the last 120 s are kept: older buckets are gaps too.
    buckets = sim->health(0, start, sim->now() + 1000, 60);
    QCOMPARE(buckets.front().samples, 0);
    QCOMPARE(buckets.back().samples, 1); // the bucket that holds "now"
    QVERIFY(buckets[buckets.size() - 2].samples == 60);
    QCOMPARE(sim->historyStart(), sim->now() - 119 * 1000);
}

void TestSimulation::scalesToRequestedWorkers()
{
    QString error;
    auto s = Scenario::load(QStringLiteral("calm"));
    SimulationOptions options;
    options.workers = 5000;
    Simulation sim(std::move(*s), options);
    QVERIFY(qAbs(sim.workerCount() - 5000) <= 10);
    sim.advance(600);
    int busy = 0;
    for (int r = 0; r < sim.regionCount(); ++r)
        busy += sim.region(r).workersByState[int(WorkerState::Busy)];
    QVERIFY2(busy > 1500, "load scales with the fleet");
}

QTEST_APPLESS_MAIN(TestSimulation)
#include "tst_simulation.moc"
