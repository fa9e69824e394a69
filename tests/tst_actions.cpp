// Actions end to end against fleet-sim over loopback HTTP: the recommendation on the incident, provision followed
// until the workers take builds, drain and resume, no duplicate operation under each injected fault (5xx, a timeout
// after the server acted, a replaced connection, a console restart mid-action), the viewer refused, and the local
// audit log after a restart. FleetAction, the recommendation and ActionController are Qt Core (core/).

#include "actioncontroller.h"
#include "fleetaction.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "localstore.h"
#include "recommendation.h"
#include "simharness.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

using namespace fleet;

namespace {

int operationsWithKey(SimHarness &sim, const QString &key)
{
    int n = 0;
    for (const Operation &op : sim.sim().operations())
        n += op.idempotencyKey == key ? 1 : 0;
    return n;
}

struct Connected
{
    explicit Connected(SimHarness &sim, const QString &token = QStringLiteral("op-secret"), const QString &store = {},
        std::function<void(ClientConfig &)> adjust = {})
    {
        if (!store.isEmpty())
            session.openLocalStore(store);
        if (adjust)
            session.setClientAdjuster(std::move(adjust));
        session.connectTo(sim.profile(), token);
    }
    bool ready() const { return session.isLive() && session.identity().has_value() && session.store()->isLoaded(); }
    FleetSession session;
};

ActionController::Phase phaseOf(const FleetSession &s, int handle)
{
    const auto *t = s.actions()->find(handle);
    return t ? t->phase : ActionController::Phase::Abandoned;
}

QString messageOf(const FleetSession &s, int handle)
{
    const auto *t = s.actions()->find(handle);
    return t ? t->message : QStringLiteral("(no such action)");
}

} // namespace

class TestActions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void actionIsAValue()
    {
        const FleetAction a = FleetAction::provision(
            QStringLiteral("eu-west"), 4, Arch::Aarch64, QStringLiteral("replace <b>eu-central</b>"), 1763000000000);
        QCOMPARE(a.describe(), QStringLiteral("provision 4 aarch64 workers in eu-west"));
        QVERIFY(!a.idempotencyKey.isEmpty());
        QVERIFY(FleetAction::provision(QStringLiteral("eu-west"), 4, Arch::Aarch64, QString()).idempotencyKey
            != a.idempotencyKey);
        const auto back = FleetAction::fromJson(a.toJson());
        QVERIFY2(back.ok(), qPrintable(back.error()));
        QCOMPARE(back->kind, a.kind);
        QCOMPARE(back->target, a.target);
        QCOMPARE(back->count, 4);
        QCOMPARE(back->arch, Arch::Aarch64);
        QCOMPARE(back->reason, a.reason);
        QCOMPARE(back->expiresAt, a.expiresAt);
        QCOMPARE(back->idempotencyKey, a.idempotencyKey);
        // The request carries the action's key, so every send of it is the same operation.
        QCOMPARE(a.request().idempotencyKey, a.idempotencyKey);
        QCOMPARE(a.request().path, QStringLiteral("/v1/regions/eu-west/provision"));
        QVERIFY(a.request().body.contains("\"count\":4"));
        QVERIFY(!FleetAction::fromJson("{\"kind\":\"reboot\",\"target\":\"x\",\"idempotency_key\":\"k\"}").ok());
        QVERIFY(!FleetAction::fromJson("not json").ok());
        // Inverses are new actions with their own keys.
        const FleetAction drain = FleetAction::drainRegion(QStringLiteral("eu-central"), QStringLiteral("loss"));
        Operation op;
        op.id = QStringLiteral("op-000007");
        const auto undo = drain.inverse(op);
        QCOMPARE(undo.size(), 1);
        QCOMPARE(undo.front().kind, FleetAction::Kind::ResumeRegion);
        QVERIFY(undo.front().idempotencyKey != drain.idempotencyKey);
        QCOMPARE(a.inverse(op, { QStringLiteral("w-1"), QStringLiteral("w-2") }).size(), 2);
    }

    // At 09:15 of the incident EU Central is in trouble: the recommendation replaces its failing and degraded
    // workers in healthy regions that run the same architectures, within their capacity.
    void recommendationOnTheIncident()
    {
        SimHarness sim;
        Connected c(sim);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        sim.advance(75 * 60); // 09:15, from the scenario's start at 08:00
        QTRY_VERIFY_WITH_TIMEOUT(c.session.store()->fleetNowMs() >= sim.sim().now() - 2000, 60000);
        // A verdict change must hold for 30 fleet seconds across evaluations: a few small steps with pauses.
        for (int i = 0; i < 8; ++i) {
            sim.advance(10);
            QTest::qWait(150);
        }
        QTRY_VERIFY2_WITH_TIMEOUT(c.session.healthMonitor()->verdict(QStringLiteral("eu-central")) != Verdict::Healthy
                && c.session.healthMonitor()->verdict(QStringLiteral("eu-central")) != Verdict::NoData,
            qPrintable(c.session.healthMonitor()->reason(QStringLiteral("eu-central"))
                + QStringLiteral(" sim now %1 store now %2 latest %3 sim loss %4")
                      .arg(QDateTime::fromMSecsSinceEpoch(sim.sim().now(), Qt::UTC).toString(Qt::ISODate))
                      .arg(QDateTime::fromMSecsSinceEpoch(c.session.store()->fleetNowMs(), Qt::UTC)
                               .toString(Qt::ISODate))
                      .arg(c.session.store()->history().latestSecond())
                      .arg(sim.sim().region(0).packetLoss)),
            20000);
        const Recommendation rec = recommend(*c.session.store(), *c.session.healthMonitor());
        qInfo().noquote() << rec.summary();
        QCOMPARE(rec.region, QStringLiteral("eu-central"));
        QVERIFY2(rec.failing() + rec.degraded() > 0, qPrintable(rec.summary()));
        QVERIFY2(!rec.shares.isEmpty(), qPrintable(rec.summary()));
        QHash<QString, int> perRegion;
        for (const auto &share : rec.shares) {
            QVERIFY(share.region != QLatin1String("eu-central"));
            QCOMPARE(c.session.healthMonitor()->verdict(share.region), Verdict::Healthy);
            const int row = c.session.store()->regionRow(share.region);
            QVERIFY(row >= 0);
            const Region &r = c.session.store()->regions()[std::size_t(row)];
            // The region runs that architecture.
            bool runs = false;
            for (const Worker &w : c.session.store()->workers())
                runs = runs || (w.region == share.region && w.arch == share.arch);
            QVERIFY2(runs, qPrintable(share.region));
            perRegion[share.region] += share.count;
            QVERIFY(share.count <= r.capacity.maxProvisionPerRequest);
            QVERIFY2(perRegion[share.region] <= capacityLeft(r), qPrintable(share.region));
        }
        // Every architecture that needs replacing is covered as far as capacity allows.
        for (const auto &need : rec.needs) {
            int given = 0;
            for (const auto &share : rec.shares)
                given += share.arch == need.arch ? share.count : 0;
            QCOMPARE(given, need.total());
        }
        QVERIFY(rec.suggestedReason.contains(QLatin1String("eu-central")));
        // A region with less room than the need: the shortfall is said, and no region is overfilled.
        WorkerJudgement strict;
        strict.degradedRttMs = 1; // every worker of the region counts as degraded
        strict.degradedPacketLoss = 0;
        const Recommendation big
            = recommend(*c.session.store(), *c.session.healthMonitor(), QStringLiteral("eu-central"), strict);
        QVERIFY(big.failing() + big.degraded() >= 55);
        QHash<QString, int> bigPerRegion;
        for (const auto &share : big.shares) {
            bigPerRegion[share.region] += share.count;
            const Region &r = c.session.store()->regions()[std::size_t(c.session.store()->regionRow(share.region))];
            QVERIFY(bigPerRegion[share.region] <= capacityLeft(r));
        }
    }

    void provisionIsFollowedUntilWorkersTakeBuilds()
    {
        SimHarness sim;
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("store.sqlite"));
        Connected c(sim, QStringLiteral("op-secret"), file);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        QSignalSpy finished(c.session.actions(), &ActionController::finished);
        const FleetAction action
            = FleetAction::provision(QStringLiteral("eu-west"), 3, Arch::Aarch64, QStringLiteral("more capacity"));
        const int handle = c.session.actions()->perform(action);
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, handle), ActionController::Phase::Following, 10000);
        const QString op = c.session.actions()->find(handle)->operationId;
        QVERIFY(op.startsWith(QLatin1String("op-")));
        QVERIFY(finished.isEmpty()); // accepted is not done
        // Someone else acting on the same region is warned about, with who and what.
        QTRY_VERIFY_WITH_TIMEOUT(c.session.store()->operationRow(op) >= 0, 5000);
        const QString overlap = c.session.actions()->overlapWarning(
            FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("x")));
        QVERIFY2(overlap.contains(QLatin1String("demo-operator provisioned 3 aarch64 workers in eu-west")),
            qPrintable(overlap));
        sim.advance(600);
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, handle), ActionController::Phase::Done, 15000);
        QCOMPARE(finished.size(), 1);
        QVERIFY2(messageOf(c.session, handle).contains(QLatin1String("3 aarch64 workers in eu-west are taking builds")),
            qPrintable(messageOf(c.session, handle)));
        int ready = 0;
        for (const Worker &w : c.session.store()->workers())
            ready += (w.operation == op && (w.state == WorkerState::Idle || w.state == WorkerState::Busy)) ? 1 : 0;
        QCOMPARE(ready, 3);
        // The inverse: drain exactly those workers.
        const auto undo = c.session.actions()->inverseOf(handle);
        QCOMPARE(undo.size(), 3);
        for (const auto &u : undo)
            QCOMPARE(u.kind, FleetAction::Kind::DrainWorker);
        // The local audit log has it, with its outcome, after the console is gone.
        c.session.localStore()->close();
        LocalStore reopened;
        QVERIFY(reopened.open(file).ok());
        const auto journal = reopened.journal();
        QVERIFY(journal.ok());
        QCOMPARE(journal->size(), 1);
        QCOMPARE(journal->front().kind, QStringLiteral("provision"));
        QCOMPARE(journal->front().actor, QStringLiteral("demo-operator"));
        QVERIFY2(journal->front().outcome.startsWith(QLatin1String("succeeded")), qPrintable(journal->front().outcome));
        QVERIFY(journal->front().summary.contains(QLatin1String("more capacity")));
    }

    void drainAndResumeARegion()
    {
        SimHarness sim;
        sim.advance(1800); // builds running in us-west
        Connected c(sim);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        const int row = c.session.store()->regionRow(QStringLiteral("us-west"));
        const Region &usWest = c.session.store()->regions()[std::size_t(row)];
        QVERIFY(usWest.workersByState[int(WorkerState::Busy)] > 0);
        const int drain = c.session.actions()->perform(
            FleetAction::drainRegion(QStringLiteral("us-west"), QStringLiteral("maintenance")));
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, drain), ActionController::Phase::Following, 10000);
        // A second drain of a draining region is not an error: it says who drains it and since when, and follows it.
        const int again = c.session.actions()->perform(
            FleetAction::drainRegion(QStringLiteral("us-west"), QStringLiteral("again")));
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, again), ActionController::Phase::Following, 10000);
        QVERIFY2(messageOf(c.session, again).contains(QLatin1String("already being done by demo-operator since")),
            qPrintable(messageOf(c.session, again)));
        QVERIFY(messageOf(c.session, again).contains(QLatin1String("maintenance")));
        QCOMPARE(c.session.actions()->find(again)->operationId, c.session.actions()->find(drain)->operationId);
        sim.advance(1800); // running builds finish
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, drain), ActionController::Phase::Done, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, again), ActionController::Phase::Done, 5000);
        QVERIFY2(messageOf(c.session, drain).contains(QLatin1String("none running")),
            qPrintable(messageOf(c.session, drain)));
        const auto undo = c.session.actions()->inverseOf(drain);
        QCOMPARE(undo.size(), 1);
        QCOMPARE(undo.front().kind, FleetAction::Kind::ResumeRegion);
        const int resume = c.session.actions()->perform(undo.front());
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, resume), ActionController::Phase::Done, 15000);
        QCOMPARE(c.session.store()->regions()[std::size_t(row)].dispatchState, DispatchState::Active);
    }

    // Cancelling a provision is done when the operation is cancelled (not a failure of the cancel).
    void cancelAProvision()
    {
        SimHarness sim;
        Connected c(sim);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        const int provision = c.session.actions()->perform(
            FleetAction::provision(QStringLiteral("eu-west"), 3, Arch::Amd64, QStringLiteral("too many")));
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, provision), ActionController::Phase::Following, 10000);
        const QString op = c.session.actions()->find(provision)->operationId;
        const int cancel = c.session.actions()->perform(FleetAction::cancel(op, QStringLiteral("changed my mind")));
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, cancel), ActionController::Phase::Done, 10000);
        QVERIFY2(messageOf(c.session, cancel).contains(QLatin1String("cancelled")),
            qPrintable(messageOf(c.session, cancel)));
        // The provision itself ended as cancelled: for it, a failure, with the server's words.
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, provision), ActionController::Phase::Failed, 10000);
        QVERIFY2(messageOf(c.session, provision).contains(QLatin1String("Cancelled by demo-operator")),
            qPrintable(messageOf(c.session, provision)));
    }

    // Confirmed while the server is unreachable (the connection reconnecting): the action waits, recorded, and is
    // sent once when the connection is live again; it is neither refused nor lost.
    void confirmedWhileReconnectingIsSentWhenLive()
    {
        SimHarness sim;
        Connected c(sim, QStringLiteral("op-secret"), {}, [](ClientConfig &cfg) {
            cfg.backoffBaseMs = 100;
            cfg.backoffCapMs = 500;
        });
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        sim.stopServing();
        QTRY_VERIFY_WITH_TIMEOUT(!c.session.isLive(), 10000);
        const FleetAction a = FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("x"));
        const int h = c.session.actions()->perform(a);
        QCOMPARE(phaseOf(c.session, h), ActionController::Phase::Uncertain);
        QVERIFY2(messageOf(c.session, h).contains(QLatin1String("sent when the connection is live again")),
            qPrintable(messageOf(c.session, h)));
        QVERIFY(sim.sim().operations().empty());
        sim.startAgain();
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, h), ActionController::Phase::Following, 20000);
        QCOMPARE(operationsWithKey(sim, a.idempotencyKey), 1);
    }

    void viewerIsRefusedWithTheReason()
    {
        SimHarness sim;
        Connected c(sim, QStringLiteral("view-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        const int h = c.session.actions()->perform(
            FleetAction::provision(QStringLiteral("eu-west"), 1, Arch::Amd64, QStringLiteral("try")));
        QCOMPARE(phaseOf(c.session, h), ActionController::Phase::Refused);
        QVERIFY2(messageOf(c.session, h).contains(QLatin1String("needs the operator role")),
            qPrintable(messageOf(c.session, h)));
        QVERIFY(sim.sim().operations().empty());
    }

    // Each fault leaves exactly one operation for the action's key.
    void noDuplicateUnderFaults_data()
    {
        QTest::addColumn<QByteArray>("fault");
        QTest::newRow("5xx before acting")
            << QByteArray(R"({"type":"error","status":503,"count":2,"match":"/v1/regions/eu-west/provision"})");
        QTest::newRow("timeout after acting")
            << QByteArray(R"({"type":"stall","delay_ms":2500,"count":1,"match":"/v1/regions/eu-west/provision"})");
    }
    void noDuplicateUnderFaults()
    {
        QFETCH(QByteArray, fault);
        SimHarness sim;
        Connected c(sim, QStringLiteral("op-secret"), {}, [](ClientConfig &cfg) {
            cfg.requestTimeoutMs = 800;
            cfg.backoffBaseMs = 100;
        });
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        QCOMPARE(sim.admin(QStringLiteral("/v1/sim/faults"), fault).status, 201);
        const FleetAction a = FleetAction::provision(QStringLiteral("eu-west"), 2, Arch::Amd64, QStringLiteral("x"));
        const int h = c.session.actions()->perform(a);
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, h), ActionController::Phase::Following, 20000);
        QTest::qWait(3000); // a late answer of the stalled request must not make a second one
        QCOMPARE(operationsWithKey(sim, a.idempotencyKey), 1);
        QCOMPARE(int(sim.sim().operations().size()), 1);
    }

    // The connection is replaced while the request is on its way: the answer is lost with the old client. Once the
    // new connection is live, the key is looked up and the operation followed; never sent twice.
    void replacedConnectionMidAction()
    {
        SimHarness sim;
        Connected c(sim);
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        sim.admin(QStringLiteral("/v1/sim/faults"),
            R"({"type":"stall","delay_ms":1500,"count":1,"match":"/v1/regions/eu-west/provision"})");
        const FleetAction a = FleetAction::provision(QStringLiteral("eu-west"), 2, Arch::Amd64, QStringLiteral("x"));
        const int h = c.session.actions()->perform(a);
        QTest::qWait(300);
        c.session.reconnect();
        QCOMPARE(phaseOf(c.session, h), ActionController::Phase::Uncertain);
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(c.session, h), ActionController::Phase::Following, 20000);
        QTest::qWait(2000);
        QCOMPARE(operationsWithKey(sim, a.idempotencyKey), 1);
    }

    // The console stops while the action is on its way (the server acts, the answer never arrives). The next start
    // finds it pending in the journal, looks the key up, and follows the one operation to the end.
    void restartMidAction()
    {
        SimHarness sim;
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("store.sqlite"));
        FleetAction a = FleetAction::provision(QStringLiteral("eu-west"), 2, Arch::Amd64, QStringLiteral("x"));
        {
            Connected c(sim, QStringLiteral("op-secret"), file);
            QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
            sim.admin(QStringLiteral("/v1/sim/faults"),
                R"({"type":"stall","delay_ms":3000,"count":1,"match":"/v1/regions/eu-west/provision"})");
            const int h = c.session.actions()->perform(a);
            QTest::qWait(500);
            QCOMPARE(phaseOf(c.session, h), ActionController::Phase::Sending);
        } // the console is gone
        QTRY_COMPARE_WITH_TIMEOUT(operationsWithKey(sim, a.idempotencyKey), 1, 5000);
        // An action the previous run never got to send, recorded pending: sent now (it is recent).
        FleetAction unsent = FleetAction::resumeRegion(QStringLiteral("us-east"), QStringLiteral("y"));
        {
            LocalStore store;
            QVERIFY(store.open(file).ok());
            LocalStore::JournalEntry e;
            e.atMs = QDateTime::currentMSecsSinceEpoch();
            e.kind = unsent.kindName();
            e.target = unsent.target;
            e.summary = unsent.describe();
            QJsonObject o = QJsonDocument::fromJson(unsent.toJson()).object();
            o.insert(QStringLiteral("fleet"), sim.baseUrl().toString());
            e.payload = QJsonDocument(o).toJson(QJsonDocument::Compact);
            e.outcome = QStringLiteral("pending");
            QVERIFY(store.appendJournal(e).ok());
        }
        Connected again(sim, QStringLiteral("op-secret"), file);
        QTRY_VERIFY_WITH_TIMEOUT(again.ready(), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(again.session.actions()->tracked().size(), 2, 10000);
        const auto &t = again.session.actions()->tracked();
        const int resumed = t[0].action.idempotencyKey == a.idempotencyKey ? t[0].handle : t[1].handle;
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(again.session, resumed), ActionController::Phase::Following, 10000);
        sim.advance(600);
        QTRY_COMPARE_WITH_TIMEOUT(phaseOf(again.session, resumed), ActionController::Phase::Done, 15000);
        QCOMPARE(operationsWithKey(sim, a.idempotencyKey), 1);
        // The unsent one was sent (us-east is active, so the server answers as it sees fit), and only once.
        const int unsentHandle = t[0].handle == resumed ? t[1].handle : t[0].handle;
        QTRY_VERIFY_WITH_TIMEOUT(phaseOf(again.session, unsentHandle) != ActionController::Phase::Sending, 10000);
        QVERIFY2(phaseOf(again.session, unsentHandle) != ActionController::Phase::Abandoned,
            qPrintable(messageOf(again.session, unsentHandle)));
        QVERIFY(operationsWithKey(sim, unsent.idempotencyKey) <= 1);
        const auto journal = again.session.localStore()->journal();
        QVERIFY(journal.ok());
        QCOMPARE(journal->size(), 2);
        QVERIFY2(journal->front().outcome.startsWith(QLatin1String("succeeded")), qPrintable(journal->front().outcome));
    }
};

QTEST_GUILESS_MAIN(TestActions)
#include "tst_actions.moc"
